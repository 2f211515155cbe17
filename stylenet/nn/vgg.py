"""Frozen VGG feature extractor for perceptual losses (Simonyan & Zisserman 2015).

Input: ``N×3×H×W`` RGB in [0, 1]. The module owns the preprocessing of its weights, runs
only up to the deepest requested layer and has no parameters (weights are non-persistent
buffers: nothing to train, nothing saved into checkpoints of models that hold it).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from stylenet.errors import ConfigError
from stylenet.nn.vgg_weights import VGG_BLOCKS, VGGWeights


def layer_names(arch: str) -> list[str]:
    """All ReLU layer names of ``arch`` in order: ``relu1_1 … relu5_4`` (VGG-19)."""
    return [
        f"relu{b + 1}_{c + 1}" for b, count in enumerate(VGG_BLOCKS[arch]) for c in range(count)
    ]


POOL_SIZE = 2  # 2×2 pooling, stride 2, between blocks


class FrozenConv3x3(nn.Module):
    """3×3 convolution, padding 1, with fixed weights held as non-persistent buffers."""

    padding = 1

    weight: torch.Tensor
    bias: torch.Tensor

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("weight", weight.detach().clone(), persistent=False)
        self.register_buffer("bias", bias.detach().clone(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight, self.bias, padding=self.padding)


class VGGFeatures(nn.Module):
    """Frozen VGG feature maps for a set of ReLU layers.

    Args:
        layers: layer names, e.g. ``["relu1_1", "relu4_2"]``.
        weights: a :class:`VGGWeights` key (``vgg19_caffe``, ``vgg16_torchvision``,
            ``vgg19_torchvision``, ``random``, ``random_vgg16``).
        pooling: ``"max"`` or ``"avg"`` (average pooling, Gatys et al. 2016).

    ``forward(x: N×3×H×W RGB [0, 1]) -> {layer: N×C×h×w}``.
    """

    inv_std: torch.Tensor
    mean_scaled: torch.Tensor

    def __init__(
        self,
        layers: Iterable[str],
        weights: str | VGGWeights = "vgg19_caffe",
        pooling: str = "max",
    ) -> None:
        super().__init__()
        self.weights = VGGWeights.parse(weights)
        if pooling not in ("max", "avg"):
            raise ConfigError(f"pooling must be 'max' or 'avg', got {pooling!r}")
        self.pooling = pooling
        self.layers = list(dict.fromkeys(layers))
        known = layer_names(self.weights.arch)
        unknown = [name for name in self.layers if name not in known]
        if not self.layers or unknown:
            raise ConfigError(
                f"unknown VGG layer(s) {unknown or '(none given)'} for {self.weights.key}; "
                f"choose from {known[0]} … {known[-1]}"
            )
        depth = max(known.index(name) for name in self.layers) + 1
        self.depth_names = known[:depth]
        pre = self.weights.preprocessing
        self.channel_order = list(pre.channel_order)
        self.register_buffer(
            "inv_std", (pre.scale / torch.tensor(pre.std)).view(1, 3, 1, 1), persistent=False
        )
        self.register_buffer(
            "mean_scaled",
            (torch.tensor(pre.mean) / torch.tensor(pre.std)).view(1, 3, 1, 1),
            persistent=False,
        )
        self.convs = nn.ModuleList(FrozenConv3x3(w, b) for w, b in self.weights.load(depth))
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> VGGFeatures:
        """Always stays in eval mode (frozen)."""
        return super().train(False)

    def conv_layers(self) -> list[FrozenConv3x3]:
        """The convolutions in order, one for each name of :attr:`depth_names`."""
        return [conv for conv in self.convs if isinstance(conv, FrozenConv3x3)]

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """RGB [0, 1] → the weights' input space (channel order, scale, mean, std)."""
        if self.channel_order != [0, 1, 2]:
            x = x[:, self.channel_order]
        return x * self.inv_std - self.mean_scaled

    def forward(
        self, x: torch.Tensor, layers: Iterable[str] | None = None
    ) -> dict[str, torch.Tensor]:
        """Features of ``layers`` (default: all of :attr:`layers`); stops at the deepest one."""
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"VGGFeatures expects N×3×H×W, got {tuple(x.shape)}")
        wanted = set(self.layers if layers is None else layers)
        if not wanted <= set(self.layers):
            raise ValueError(f"layers {sorted(wanted - set(self.layers))} were not requested")
        out: dict[str, torch.Tensor] = {}
        h = self.normalize(x)
        previous_block = 1
        for conv, name in zip(self.convs, self.depth_names, strict=True):
            block = int(name[4])
            if block != previous_block:
                h = self._pool(h)
                previous_block = block
            h = F.relu(conv(h))
            if name in wanted:
                out[name] = h
                if len(out) == len(wanted):
                    break
        return out

    def _pool(self, h: torch.Tensor) -> torch.Tensor:
        if self.pooling == "avg":
            return F.avg_pool2d(h, kernel_size=POOL_SIZE, stride=POOL_SIZE)
        return F.max_pool2d(h, kernel_size=POOL_SIZE, stride=POOL_SIZE)
