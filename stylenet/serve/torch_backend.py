"""A :class:`~stylenet.serve.stylizer.Stylizer` running a PyTorch transformer network.

The only serving module that imports torch; :func:`~stylenet.serve.loader.load_stylizer`
imports it lazily, for checkpoints only. It takes and returns NumPy arrays like every
other stylizer.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import torch

from stylenet.devices import autocast_dtype, resolve_device
from stylenet.errors import ImageError
from stylenet.nn.checkpoint import ModelInfo, load_transformer
from stylenet.nn.layer_plan import TorchLayers
from stylenet.nn.transformer import TransformerNet
from stylenet.serve.layerwise import layerwise_rows
from stylenet.serve.stylizer import check_batch, weight_rows


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
        self.statistics_channels: list[int] | None = net.statistics_channels() or None

    @classmethod
    def from_checkpoint(
        cls, path: str | os.PathLike[str], device: str = "auto", precision: str = "fp32"
    ) -> TorchStylizer:
        net, info = load_transformer(path)
        return cls(net, info, device=device, precision=precision)

    def __call__(
        self,
        images: np.ndarray,
        style_weights: np.ndarray | None = None,
        *,
        statistics: np.ndarray | None = None,
    ) -> np.ndarray:
        """``N×3×H×W`` float32 [0, 255] (+ ``N×S`` or ``1×S``) → ``N×3×H×W`` float32 [0, 255].

        ``statistics``: packed ``N×K`` (or ``1×K``) instance-norm statistics to normalise with
        (:mod:`stylenet.nn.statistics`), ``None`` = each image's own."""
        return self._run(images, style_weights, statistics)[0]

    def statistics(
        self,
        images: np.ndarray,
        style_weights: np.ndarray | None = None,
        *,
        statistics: np.ndarray | None = None,
    ) -> np.ndarray:
        """Packed ``N×K`` float32 instance-norm statistics of ``images`` (each layer's input
        moments, normalised with ``statistics`` when given)."""
        return self._run(images, style_weights, statistics)[1]

    def layerwise_rows(
        self, images: np.ndarray, style_weights: np.ndarray | None = None, *, tile: int
    ) -> Iterator[tuple[int, np.ndarray]]:
        """``N×3×H×W`` [0, 255] (uint8 or float32) → ``(y, N×3×h×W float32 rows)`` of the
        stylized picture from the top, the network run layer by layer over tiles of at most
        ``tile`` px (:mod:`stylenet.serve.layerwise`): a single pass's output in a tile's
        memory. Float32 whatever the stylizer's precision."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ImageError(f"expected N×3×H×W images, got shape {images.shape}")
        weights = None
        if self.net.is_multi_style:
            weights = weight_rows(style_weights, self.styles, images.shape[0])
        return layerwise_rows(TorchLayers(self.net), images, weights, tile=tile)

    def _run(
        self,
        images: np.ndarray,
        style_weights: np.ndarray | None,
        statistics: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        batch = check_batch(images, 1)  # the network pads what it needs; ONNX keeps >= 32
        x = torch.from_numpy(batch).to(self.device)
        weights = None
        if self.net.is_multi_style:
            rows = weight_rows(style_weights, self.styles, batch.shape[0])
            weights = torch.tensor(rows, device=self.device)  # rows may be a read-only view
        given = None
        if statistics is not None:
            given = torch.from_numpy(np.asarray(statistics, dtype=np.float32)).to(self.device)
        with (
            torch.inference_mode(),
            torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype is not None),
        ):
            out, observed = self.net.forward_statistics(x, weights, given)
        return out.float().cpu().numpy(), observed.float().cpu().numpy()
