"""Whole-image instance-norm statistics for tiled inference (NumPy; any backend).

Chen et al., "Towards Ultra-Resolution Neural Style Transfer via Thumbnail Instance
Normalization" (URST, AAAI 2022): normalise every tile with the statistics of the whole image,
so tiles no longer differ in tone. Three ways to get them (packed ``N×K`` float32, layout in
:mod:`stylenet.nn.statistics`):

- ``calibrated`` (default): the thumbnail's, calibrated to full resolution. The network's
  responses depend on scale, so a thumbnail's moments are off at full resolution; the same
  places of the picture (crops on a regular grid, about two fifths of its pixels) are run at
  both scales, as mosaics of at most one tile each (and at least :data:`MIN_GROUP_PIXELS`), and their difference moves the
  thumbnail's moments to full resolution (a control variate: the crops' own sampling error
  mostly cancels). Numbers in docs/BENCHMARKS.md;
- ``thumbnail``: one pass over a downscaled copy (longest side ``side``), as in URST;
- ``exact``: start from the calibrated ones, then ``passes`` passes over disjoint pieces of the
  full-resolution image (each at most one tile), whose per-layer moments are merged exactly
  (Chan, Golub and LeVeque 1979). Layer ``k``'s statistics depend on layers ``< k``'s, so
  pass ``k`` makes layer ``k`` exact: with one pass per instance-norm layer (the default) the
  statistics are a single full-resolution pass's, up to the pieces' borders (which see
  reflection padding instead of their neighbours). Fewer passes mix layers measured under
  different normalisations and are worse than the calibrated ones.

``tile`` (the old behaviour) uses each tile's own statistics. A stylizer takes part when it
has a non-``None`` ``statistics_channels`` (see :class:`~stylenet.serve.stylizer.Stylizer`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeGuard

import numpy as np

from stylenet.errors import ConfigError
from stylenet.nn.limits import MIN_SIDE
from stylenet.serve.stylizer import StatisticsStylizer, Stylizer
from stylenet.serve.tiling import spans

MODES = ("auto", "layerwise", "calibrated", "thumbnail", "exact", "tile")
# ``layerwise`` is no estimate: the network runs layer by layer over the tiles and every layer
# sees the whole image's statistics (stylenet.serve.layerwise; PyTorch models and format-3
# ONNX exports). The pipeline (stylenet.serve.pipeline) runs it. ``auto``: ``layerwise``
# where the stylizer can run it, else ``calibrated``.
AUTO = "auto"
LAYERWISE = "layerwise"
DEFAULT_MODE = AUTO
DEFAULT_ESTIMATE = "calibrated"
DEFAULT_THUMBNAIL_SIDE = 1024
DEFAULT_CROP = 64  # calibration crops, in thumbnail px
DEFAULT_FRACTION = 0.4  # of the picture's pixels, run at full resolution
# Calibration mosaics hold up to a tile's pixels, and at least this many: smaller groups
# are dominated by their borders (the network's padding) and bias the calibration.
MIN_GROUP_PIXELS = 1600 * 1600


def supports_statistics(stylizer: Stylizer) -> TypeGuard[StatisticsStylizer]:
    """Whether ``stylizer`` can report and take shared statistics."""
    return getattr(stylizer, "statistics_channels", None) is not None


def supports_layerwise(stylizer: Stylizer) -> bool:
    """Whether ``stylizer`` can run its network layer by layer over tiles (PyTorch models,
    ONNX models exported with their layer graphs)."""
    return callable(getattr(stylizer, "layerwise_rows", None)) and bool(
        getattr(stylizer, "has_layers", True)
    )


def resolve_mode(stylizer: Stylizer, mode: str) -> str:
    """``auto`` → ``layerwise`` where ``stylizer`` supports it, else ``calibrated``; other
    modes as given."""
    check_mode(mode)
    if mode != AUTO:
        return mode
    return LAYERWISE if supports_layerwise(stylizer) else DEFAULT_ESTIMATE


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ConfigError(f"tile_statistics must be one of {list(MODES)}, got {mode!r}")


def check_fraction(fraction: float) -> None:
    """The calibration's share of the picture must be in (0, 1]."""
    if not 0.0 < float(fraction) <= 1.0:
        raise ConfigError(f"the calibration fraction must be in (0, 1], got {fraction}")


def thumbnail(images: np.ndarray, side: int) -> np.ndarray:
    """``N×3×H×W`` (float32, or uint8) → float32 ``N×3×h×w`` with ``max(h, w) <= side``
    (:func:`area_resize`; unchanged if already small). Both sides stay ``>= MIN_SIDE``."""
    height, width = images.shape[-2:]
    scale = min(1.0, side / max(height, width))
    if scale == 1.0:
        return np.asarray(images, dtype=np.float32)
    size = (max(MIN_SIDE, round(height * scale)), max(MIN_SIDE, round(width * scale)))
    return np.stack([area_resize(image, size) for image in images])


def area_resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``C×H×W`` → float32 ``C×h×w`` (``size`` = ``(h, w)``): each output pixel is the mean of
    the input over its footprint, partly covered pixels weighted by their covered fraction
    (OpenCV's ``INTER_AREA`` when shrinking, in NumPy). Integer input is rounded, as a resize
    in its own type would be."""
    out = np.stack([_area_rows(_area_rows(plane, size[0]).T, size[1]).T for plane in image])
    if not np.issubdtype(image.dtype, np.floating):
        out = np.rint(out)
    return np.ascontiguousarray(out, dtype=np.float32)


def _area_rows(plane: np.ndarray, size: int) -> np.ndarray:
    """``H×W`` → float64 ``size×W``, area-averaged along the first axis: output row ``i``
    covers input rows ``[i·H/size, (i+1)·H/size)``."""
    length = plane.shape[0]
    steps = np.arange(size + 1) * length  # footprint edges times ``size``, exact integers
    low = steps // size
    frac = ((steps % size) / size)[:, None]
    # whole rows from each edge's row to the next edge's (none when the edges share a row) ...
    sums = np.add.reduceat(plane, low[:-1], axis=0, dtype=np.float64)
    sums[low[1:] == low[:-1]] = 0.0
    # ... plus the covered part of the next edge's row, minus the uncovered part of the first
    edge = frac * plane[np.minimum(low, length - 1)]
    return (sums + edge[1:] - edge[:-1]) * (size / length)


def crop_grid(height: int, width: int, *, count: int, crop: int) -> tuple[list[int], list[int]]:
    """Top and left edges of about ``count`` ``crop``-px crops on a regular grid over an
    ``height×width`` image (rows and columns in its aspect ratio, crops centred in their cells,
    never overlapping)."""
    cols = max(1, min(width // crop, round(math.sqrt(count * width / height))))
    rows = max(1, min(height // crop, count // cols))

    def edges(length: int, n: int) -> list[int]:
        return [
            min(max(0, round((i + 0.5) * length / n - crop / 2)), length - crop) for i in range(n)
        ]

    return edges(height, rows), edges(width, cols)


Place = tuple[int, int]  # (top, left) of a crop


def mosaic(images: np.ndarray, rows: Sequence[Sequence[Place]], crop: int) -> np.ndarray:
    """The ``crop``-px crops of ``images`` (``N×3×H×W``, float32 or uint8) at each place,
    side by side row by row (rows of equal length) → float32
    ``N×3×(len(rows)·crop)×(len(rows[0])·crop)``."""
    strips = [
        np.concatenate([images[..., y : y + crop, x : x + crop] for y, x in row], axis=-1)
        for row in rows
    ]
    return np.ascontiguousarray(np.concatenate(strips, axis=-2), dtype=np.float32)


def groups(rows: list[list[int]], per_group: int) -> list[list[list[int]]]:
    """Indices laid out in ``rows`` → groups of at most ``per_group`` (whole rows when a row
    fits, else pieces of one row), each a list of equal-length rows."""
    width = len(rows[0])
    if per_group >= width:
        step = per_group // width
        return [rows[i : i + step] for i in range(0, len(rows), step)]
    return [[row[i : i + per_group]] for row in rows for i in range(0, width, per_group)]


def matched_mosaics(
    images: np.ndarray,
    small: np.ndarray,
    *,
    crop: int = DEFAULT_CROP,
    fraction: float = DEFAULT_FRACTION,
    max_pixels: int,
) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """The same places of the picture at both scales: ``crop``-px crops of its thumbnail
    ``small`` on a regular grid and the corresponding full-resolution crops of ``images``
    (``crop`` × the downscale factor), together about ``fraction`` of the picture's pixels (at
    least one crop). Returned as groups ``(thumbnail's mosaic, full-resolution mosaic, its
    pixels)`` whose full-resolution mosaic holds at most ``max_pixels`` (at least one crop),
    so memory is set by that bound, not by the picture."""
    check_fraction(fraction)
    height, width = images.shape[-2:]
    small_height, small_width = small.shape[-2:]
    scale = min(height / small_height, width / small_width)
    crop = max(1, min(crop, small_height, small_width))
    full = min(round(crop * scale), height, width)
    count = max(1, int(fraction * height * width // full**2))
    tops, lefts = crop_grid(small_height, small_width, count=count, crop=crop)
    small_places = [(y, x) for y in tops for x in lefts]
    big_places = [
        (
            min(round(y * height / small_height), height - full),
            min(round(x * width / small_width), width - full),
        )
        for y, x in small_places
    ]
    layout = [[r * len(lefts) + c for c in range(len(lefts))] for r in range(len(tops))]
    out = []
    for group in groups(layout, max(1, max_pixels // full**2)):
        at_small = mosaic(small, [[small_places[i] for i in row] for row in group], crop)
        at_full = mosaic(images, [[big_places[i] for i in row] for row in group], full)
        out.append((at_small, at_full, at_full.shape[-2] * at_full.shape[-1]))
    return out


def calibrate(
    rough: np.ndarray, at_small: np.ndarray, at_full: np.ndarray, channels: Sequence[int]
) -> np.ndarray:
    """The thumbnail's packed statistics ``rough`` (``N×K``) moved to full resolution by what
    the same crops measure at both scales (a control variate): means shifted by
    ``at_full − at_small``, variances scaled by ``at_full / at_small``."""
    out = np.array(rough, dtype=np.float64)
    small, big = np.asarray(at_small, np.float64), np.asarray(at_full, np.float64)
    start = 0
    for c in channels:
        means, variances = slice(start, start + c), slice(start + c, start + 2 * c)
        out[:, means] += big[:, means] - small[:, means]
        below = small[:, variances]
        out[:, variances] *= np.where(
            below > 1e-12, big[:, variances] / np.maximum(below, 1e-12), 1
        )
        start += 2 * c
    return out.astype(np.float32)


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


def group_pixels(tile: int) -> int:
    """The most pixels one calibration mosaic holds when tiles are ``tile`` px."""
    return max(tile * tile, MIN_GROUP_PIXELS)


def calibrated_statistics(
    stylizer: StatisticsStylizer,
    images: np.ndarray,
    style_weights: np.ndarray | None = None,
    *,
    side: int = DEFAULT_THUMBNAIL_SIDE,
    max_pixels: int,
    fraction: float = DEFAULT_FRACTION,
    crop: int = DEFAULT_CROP,
) -> np.ndarray:
    """Packed ``N×K`` statistics of ``images`` (``N×3×H×W`` in [0, 255]): the thumbnail's,
    calibrated to full resolution with :func:`matched_mosaics` (``crop``-px thumbnail crops,
    about ``fraction`` of the picture, in groups of at most ``max_pixels``; their moments
    averaged by pixels). Exact when the picture is no larger than the thumbnail."""
    channels = stylizer.statistics_channels
    if channels is None:
        raise ConfigError("shared statistics need a stylizer with statistics support")
    small = thumbnail(images, side)
    rough = np.asarray(stylizer.statistics(small, style_weights))
    if small.shape[-2:] == images.shape[-2:]:
        return rough
    at_small, at_full, pixels = [], [], []
    matched = matched_mosaics(images, small, crop=crop, fraction=fraction, max_pixels=max_pixels)
    for small_mosaic, full_mosaic, count in matched:
        at_small.append(np.asarray(stylizer.statistics(small_mosaic, style_weights)))
        at_full.append(np.asarray(stylizer.statistics(full_mosaic, style_weights)))
        pixels.append(count)
    return calibrate(
        rough,
        np.average(np.stack(at_small), axis=0, weights=pixels),
        np.average(np.stack(at_full), axis=0, weights=pixels),
        channels,
    )


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
    pieces of at most ``tile`` px in ``passes`` refinement passes after the calibrated
    (``None`` = one per instance-norm layer: exact)."""
    channels = stylizer.statistics_channels
    if channels is None:
        raise ConfigError("exact statistics need a stylizer with statistics support")
    current = calibrated_statistics(
        stylizer, images, style_weights, side=side, max_pixels=group_pixels(tile)
    )
    height, width = images.shape[-2:]
    for _ in range(len(channels) if passes is None else passes):
        parts = []
        for y0, y1 in spans(height, tile, MIN_SIDE):
            for x0, x1 in spans(width, tile, MIN_SIDE):
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
    mode: str = DEFAULT_ESTIMATE,
    tile: int,
    side: int = DEFAULT_THUMBNAIL_SIDE,
    passes: int | None = None,
    fraction: float = DEFAULT_FRACTION,
    crop: int = DEFAULT_CROP,
) -> np.ndarray | None:
    """The statistics every tile should use under ``mode``; ``None`` for ``tile`` mode or a
    stylizer without statistics support (format-1 ONNX models). ``side``: the thumbnail's
    longest side; ``fraction``: the share of the picture the calibration runs at full
    resolution, in ``crop``-px thumbnail crops; ``auto`` means ``calibrated`` here."""
    check_mode(mode)
    mode = DEFAULT_ESTIMATE if mode == AUTO else mode
    if mode == LAYERWISE:
        raise ConfigError("layerwise computes no shared statistics: run it with stylize_array")
    if mode == "tile" or not supports_statistics(stylizer):
        return None
    if mode == "thumbnail":
        return thumbnail_statistics(stylizer, images, style_weights, side=side)
    if mode == "calibrated":
        return calibrated_statistics(
            stylizer,
            images,
            style_weights,
            side=side,
            max_pixels=group_pixels(tile),
            fraction=fraction,
            crop=crop,
        )
    return exact_statistics(stylizer, images, style_weights, tile=tile, passes=passes, side=side)
