"""Whole-image instance-norm statistics for tiled inference (NumPy; any backend).

Chen et al., "Towards Ultra-Resolution Neural Style Transfer via Thumbnail Instance
Normalization" (URST, AAAI 2022): normalise every tile with the statistics of the whole image,
so tiles no longer differ in tone. Two ways to get them (packed ``N×K`` float32, layout in
:mod:`stylenet.nn.statistics`):

- ``thumbnail``: one pass over a downscaled copy (longest side ``thumbnail_side``);
- ``exact``: start from the thumbnail's, then ``passes`` passes over disjoint pieces of the
  full-resolution image (each at most one tile), whose per-layer moments are merged exactly
  (Chan, Golub and LeVeque 1979). Layer ``k``'s statistics depend on layers ``< k``'s, so
  pass ``k`` makes layer ``k`` exact: with one pass per instance-norm layer (the default) the
  statistics are a single full-resolution pass's, up to the pieces' borders (which see
  reflection padding instead of their neighbours). Fewer passes mix layers measured under
  different normalisations and can be worse than the thumbnail.

``tile`` (the old behaviour) uses each tile's own statistics. A stylizer takes part when it
has a non-``None`` ``statistics_channels`` (see :class:`~stylenet.serve.stylizer.Stylizer`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import TypeGuard

import cv2
import numpy as np

from stylenet.errors import ConfigError
from stylenet.nn.limits import MIN_SIDE
from stylenet.serve.stylizer import StatisticsStylizer, Stylizer

MODES = ("thumbnail", "exact", "tile")
DEFAULT_MODE = "thumbnail"
DEFAULT_THUMBNAIL_SIDE = 1024


def supports_statistics(stylizer: Stylizer) -> TypeGuard[StatisticsStylizer]:
    """Whether ``stylizer`` can report and take shared statistics."""
    return getattr(stylizer, "statistics_channels", None) is not None


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ConfigError(f"statistics must be one of {list(MODES)}, got {mode!r}")


def thumbnail(images: np.ndarray, side: int) -> np.ndarray:
    """``N×3×H×W`` (float32, or uint8) → float32 ``N×3×h×w`` with ``max(h, w) <= side`` (area
    averaging, in the input's type; unchanged if already small). Both sides stay
    ``>= MIN_SIDE``."""
    height, width = images.shape[-2:]
    scale = min(1.0, side / max(height, width))
    if scale == 1.0:
        return np.asarray(images, dtype=np.float32)
    size = (max(MIN_SIDE, round(width * scale)), max(MIN_SIDE, round(height * scale)))
    small = [
        cv2.resize(
            np.ascontiguousarray(image.transpose(1, 2, 0)), size, interpolation=cv2.INTER_AREA
        )
        for image in images
    ]
    return np.ascontiguousarray(np.stack(small).transpose(0, 3, 1, 2), dtype=np.float32)


def pieces(length: int, tile: int) -> list[tuple[int, int]]:
    """Disjoint ``[start, end)`` spans of nearly equal length (``<= tile``, ``>= MIN_SIDE``)
    covering ``length``."""
    count = max(1, min(math.ceil(length / tile), length // MIN_SIDE))
    bounds = [round(i * length / count) for i in range(count + 1)]
    return list(itertools.pairwise(bounds))


def combine(parts: Sequence[tuple[np.ndarray, float]], channels: Sequence[int]) -> np.ndarray:
    """Moments of a union of disjoint pieces from each piece's packed ``N×K`` moments and its
    pixel count (the parallel variance formula; float64 inside) → packed ``N×K`` float32."""
    total = float(sum(count for _, count in parts))
    stacked = np.stack([np.asarray(p, dtype=np.float64) for p, _ in parts])  # P×N×K
    counts = np.array([count for _, count in parts], dtype=np.float64)[:, None, None] / total
    out = np.empty(stacked.shape[1:], dtype=np.float64)
    start = 0
    for c in channels:
        means = stacked[..., start : start + c]
        variances = stacked[..., start + c : start + 2 * c]
        mean = (counts * means).sum(axis=0)
        out[:, start : start + c] = mean
        out[:, start + c : start + 2 * c] = (counts * (variances + (means - mean) ** 2)).sum(0)
        start += 2 * c
    return out.astype(np.float32)


def thumbnail_statistics(
    stylizer: StatisticsStylizer,
    images: np.ndarray,
    style_weights: np.ndarray | None = None,
    *,
    side: int = DEFAULT_THUMBNAIL_SIDE,
) -> np.ndarray:
    """Packed ``N×K`` statistics of a thumbnail of ``images`` (``N×3×H×W`` in [0, 255],
    float32 or uint8)."""
    return np.asarray(stylizer.statistics(thumbnail(images, side), style_weights))


def exact_statistics(
    stylizer: StatisticsStylizer,
    images: np.ndarray,
    style_weights: np.ndarray | None = None,
    *,
    tile: int,
    passes: int | None = None,
    side: int = DEFAULT_THUMBNAIL_SIDE,
) -> np.ndarray:
    """Packed ``N×K`` statistics of the full-resolution image, accumulated over disjoint
    pieces of at most ``tile`` px in ``passes`` refinement passes after the thumbnail's
    (``None`` = one per instance-norm layer: exact)."""
    channels = stylizer.statistics_channels
    if channels is None:
        raise ConfigError("exact statistics need a stylizer with statistics support")
    current = thumbnail_statistics(stylizer, images, style_weights, side=side)
    height, width = images.shape[-2:]
    for _ in range(len(channels) if passes is None else passes):
        parts = []
        for y0, y1 in pieces(height, tile):
            for x0, x1 in pieces(width, tile):
                crop = np.ascontiguousarray(images[..., y0:y1, x0:x1], dtype=np.float32)
                moments = stylizer.statistics(crop, style_weights, statistics=current)
                parts.append((np.asarray(moments), (y1 - y0) * (x1 - x0)))
        current = combine(parts, channels)
    return current


def shared_statistics(
    stylizer: Stylizer,
    images: np.ndarray,
    style_weights: np.ndarray | None = None,
    *,
    mode: str = DEFAULT_MODE,
    tile: int,
    side: int = DEFAULT_THUMBNAIL_SIDE,
    passes: int | None = None,
) -> np.ndarray | None:
    """The statistics every tile should use under ``mode``; ``None`` for ``tile`` mode or a
    stylizer without statistics support (format-1 ONNX models)."""
    check_mode(mode)
    if mode == "tile" or not supports_statistics(stylizer):
        return None
    if mode == "thumbnail":
        return thumbnail_statistics(stylizer, images, style_weights, side=side)
    return exact_statistics(stylizer, images, style_weights, tile=tile, passes=passes, side=side)
