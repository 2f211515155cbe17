"""A :class:`~stylenet.serve.stylizer.Stylizer` running a PyTorch transformer network."""

from __future__ import annotations

import os

import torch

from stylenet.devices import autocast_dtype, resolve_device
from stylenet.nn.checkpoint import ModelInfo, load_transformer
from stylenet.nn.transformer import TransformerNet


class TorchStylizer:
    """Runs a :class:`TransformerNet` in eval mode under ``torch.inference_mode``."""

    def __init__(
        self,
        net: TransformerNet,
        info: ModelInfo,
        device: str = "auto",
        precision: str = "fp32",
    ) -> None:
        self.device = resolve_device(device)
        self.dtype = autocast_dtype(precision)
        self.net = net.to(self.device).eval()
        self.info = info
        self.styles = list(info.styles)
        self.facts = dict(info.facts)

    @classmethod
    def from_checkpoint(
        cls, path: str | os.PathLike[str], device: str = "auto", precision: str = "fp32"
    ) -> TorchStylizer:
        net, info = load_transformer(path)
        return cls(net, info, device=device, precision=precision)

    def __call__(
        self, images: torch.Tensor, style_weights: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``N×3×H×W`` [0, 255] (+ ``N×S``) → ``N×3×H×W`` [0, 255] float32 on the CPU."""
        x = images.to(self.device, torch.float32)
        weights = None if style_weights is None else style_weights.to(self.device, torch.float32)
        if weights is None and self.net.is_multi_style:
            weights = x.new_zeros(x.shape[0], len(self.styles))
            weights[:, 0] = 1.0
        with (
            torch.inference_mode(),
            torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype is not None),
        ):
            out = self.net(x, weights)
        return out.float().cpu()
