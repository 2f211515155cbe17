"""Activation maps of a layer for one image, on one shared colour scale (Yosinski et al. 2015,
"Understanding Neural Networks Through Deep Visualization")."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from stylenet.data.heatmap import colormap


def busiest_channels(maps: torch.Tensor, count: int) -> list[int]:
    """The ``count`` channels of ``C×h×w`` ``maps`` with the highest mean activation."""
    return maps.float().flatten(1).mean(dim=1).argsort(descending=True)[:count].tolist()


def activation_tiles(
    maps: torch.Tensor, channels: Sequence[int], *, side: int
) -> tuple[list[torch.Tensor], float, float]:
    """Chosen channels of ``C×h×w`` ``maps`` → colour-mapped tiles (longest side ``side``,
    the maps' aspect ratio), all on one scale ``[low, high]`` (returned) so that channels can
    be compared."""
    chosen = maps[list(channels)].float()
    low, high = float(chosen.min()), float(chosen.max())
    unit = (chosen - low) / (high - low) if high > low else torch.zeros_like(chosen)
    h, w = unit.shape[-2:]
    size = (max(1, round(side * h / max(h, w))), max(1, round(side * w / max(h, w))))
    unit = F.interpolate(unit[:, None], size=size, mode="nearest")[:, 0]
    return [colormap(u) for u in unit], low, high
