"""Convolution filters as pictures (Krizhevsky, Sutskever and Hinton 2012, Fig. 3; Zeiler and
Fergus 2014): first-layer filters in colour, deeper ones per input channel."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from stylenet.data.heatmap import colormap
from stylenet.errors import ConfigError


def conv_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    """Every 2-D convolution weight (``O×I×k×k``) of ``model`` by module name, in order."""
    return {
        name: module.weight.detach()
        for name, module in model.named_modules()
        if isinstance(module, nn.Conv2d)
    }


def rgb_order(weight: torch.Tensor, channel_order: Sequence[int]) -> torch.Tensor:
    """Re-index a first layer's input channels to RGB when the network reads ``x[:, order]``
    (Caffe's BGR)."""
    out = torch.empty_like(weight)
    out[:, list(channel_order)] = weight
    return out


def _signed_unit(w: torch.Tensor) -> torch.Tensor:
    peak = w.abs().max()
    return 0.5 + 0.5 * w / peak if peak > 0 else torch.full_like(w, 0.5)


def colour_filters(
    weight: torch.Tensor, channels: Sequence[int] | None = None
) -> list[torch.Tensor]:
    """``O×3×k×k`` (RGB inputs) → one ``3×k×k`` tile per filter, 0.5 grey = 0, each filter
    scaled by its own largest magnitude."""
    if weight.dim() != 4 or weight.shape[1] != 3:
        raise ConfigError(f"colour filters need 3 input channels, got {tuple(weight.shape)}")
    chosen = list(range(weight.shape[0])) if channels is None else list(channels)
    return [_signed_unit(weight[c].float()) for c in chosen]


def strongest_inputs(
    weight: torch.Tensor, channels: Sequence[int] | None = None, inputs: int = 1
) -> list[list[torch.Tensor]]:
    """``O×I×k×k`` → per chosen output channel, its ``inputs`` strongest input slices (largest
    L2 norm first) as colour-mapped ``3×k×k`` tiles; one scale per output channel."""
    chosen = list(range(weight.shape[0])) if channels is None else list(channels)
    rows = []
    for c in chosen:
        w = weight[c].float()
        order = w.flatten(1).norm(dim=1).argsort(descending=True)[:inputs]
        unit = _signed_unit(w[order])
        rows.append([colormap(slice_) for slice_ in unit])
    return rows


def enlarge(tile: torch.Tensor, side: int) -> torch.Tensor:
    """A ``3×k×k`` tile blown up to ``side×side`` with nearest-neighbour (every weight visible)."""
    return F.interpolate(tile[None], size=(side, side), mode="nearest")[0]


def check_channels(channels: Sequence[int], count: int, what: str) -> list[int]:
    """``channels`` checked against ``count`` channels of ``what``."""
    bad = [c for c in channels if not 0 <= c < count]
    if bad:
        raise ConfigError(f"channels {bad} out of range: {what} has channels 0 … {count - 1}")
    return list(channels)
