"""Coarse-to-fine schedules for pixel optimisation at high resolution.

Optimising a large image directly needs many slow iterations to move the large structures;
solving at a coarse scale first and upsampling the result as the next scale's start
(as in Gatys et al. 2017, "Controlling Perceptual Factors in Neural Style Transfer", and
jcjohnson/neural-style's multires recipe) leaves only a few iterations at full size.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from stylenet.errors import ConfigError

MIN_SIDE = 16  # VGG pools 4 times before relu5_1


def scale_sizes(
    height: int, width: int, num_scales: int, min_side: int = MIN_SIDE
) -> list[tuple[int, int]]:
    """``num_scales`` sizes, each half the next, coarse → fine, ending at ``(height, width)``."""
    if int(num_scales) < 1:
        raise ConfigError(f"num_scales must be >= 1, got {num_scales}")
    sizes = []
    for level in reversed(range(int(num_scales))):
        factor = 2.0**level
        sizes.append((max(1, round(height / factor)), max(1, round(width / factor))))
    smallest = min(sizes[0])
    if smallest < min_side:
        raise ConfigError(
            f"num_scales={num_scales} makes the coarsest image {sizes[0][0]}×{sizes[0][1]}; "
            f"its shorter side must be >= {min_side} px: use fewer scales or a larger size"
        )
    return sizes


def iterations_per_scale(iterations: int | Sequence[int], num_scales: int) -> list[int]:
    """An int (same count at every scale) or one count per scale (coarse → fine)."""
    if isinstance(iterations, int):
        counts = [iterations] * num_scales
    else:
        counts = [int(i) for i in iterations]
    if len(counts) != num_scales:
        raise ConfigError(
            f"iterations has {len(counts)} entries for {num_scales} scale(s); give one per scale"
        )
    if any(c < 0 for c in counts):
        raise ConfigError(f"iterations must be >= 0, got {counts}")
    return counts


def upsample(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bicubic resize of ``N×3×h×w`` in [0, 1] to ``size`` (the next scale's start)."""
    if tuple(image.shape[-2:]) == tuple(size):
        return image
    out = F.interpolate(image, size=size, mode="bicubic", align_corners=False)
    return out.clamp(0, 1)
