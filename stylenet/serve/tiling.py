"""Tiled inference for images too large to stylize in one pass, with any ``Stylizer``.

The image is cut into overlapping ``tile×tile`` tiles (the last row/column aligned to the
border); each tile is stylized on its own and accumulated into the output with a feathered
weight — a linear ramp over the ``overlap`` pixels at every side that borders another tile — and
the sum is divided by the summed weights (linear blending as in panorama stitching, Burt and
Adelson 1983 without the pyramid). Weights fall to ~0 at each tile's inner edges, where the
network sees only reflection padding, so the result has no seams.

:func:`tiled_rows` hands out the finished output rows top to bottom, so a caller that writes
them into a uint8 picture holds, besides the input and the output, only one row of tiles
(``tile × W`` floats) and one tile's activations: memory grows with the tile size, not with the
image's area. :func:`stylize_tiled` assembles the rows into one float array.

Instance norm normalises per tile, so tiles differ in tone unless every tile is given the whole
image's statistics (``statistics=``, from :mod:`stylenet.serve.shared_statistics`; the
pipeline does this by default). ``docs/BENCHMARKS.md`` gives the measured differences.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from stylenet.errors import ConfigError
from stylenet.nn.limits import MIN_SIDE
from stylenet.serve.stylizer import Stylizer

DEFAULT_TILE = 1024
DEFAULT_OVERLAP = 64


def check_tiling(tile: int, overlap: int) -> None:
    """``tile >= 32`` and ``0 <= overlap`` with ``2·overlap < tile``, else :class:`ConfigError`."""
    if tile < MIN_SIDE:
        raise ConfigError(f"tile_size must be >= {MIN_SIDE} pixels, got {tile}")
    if overlap < 0 or 2 * overlap >= tile:
        raise ConfigError(
            f"tile_overlap must be >= 0 and less than half of tile_size ({tile}), got {overlap}"
        )


def spans(length: int, tile: int, minimum: int = 1) -> list[tuple[int, int]]:
    """Disjoint ``[start, end)`` spans of nearly equal length covering ``length``, each at most
    ``tile`` long and, where ``length`` allows, at least ``minimum``."""
    count = max(1, min(math.ceil(length / tile), length // max(1, minimum)))
    bounds = [round(i * length / count) for i in range(count + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(count) if bounds[i + 1] > bounds[i]]


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of ``tile`` px covering ``length`` px, ``>= overlap`` px apart
    overlapping; the last tile ends at ``length``. One tile if ``length <= tile``."""
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, tile - overlap))
    return [*starts, length - tile]


def ramp(size: int, overlap: int, start_open: bool, end_open: bool) -> np.ndarray:
    """1-D float32 feather weights (``size``): rising over ``overlap`` px on each open side, else 1."""
    weights = np.ones(size, dtype=np.float32)
    if overlap == 0:
        return weights
    rise = ((np.arange(overlap, dtype=np.float32) + 0.5) / overlap).astype(np.float32)
    if start_open:
        weights[:overlap] = rise
    if end_open:
        weights[size - overlap :] = rise[::-1]
    return weights


def tile_boxes(height: int, width: int, tile: int, overlap: int) -> Iterator[tuple[int, int]]:
    """Top-left corners ``(y, x)`` of the tiles, row by row."""
    for y in tile_starts(height, tile, overlap):
        for x in tile_starts(width, tile, overlap):
            yield y, x


def tiled_rows(
    stylizer: Stylizer,
    images: np.ndarray,
    style_weights: np.ndarray | None = None,
    *,
    tile: int = DEFAULT_TILE,
    overlap: int = DEFAULT_OVERLAP,
    statistics: np.ndarray | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Stylize ``N×3×H×W`` images in [0, 255] (float32, or uint8: each tile is converted on
    its own) tile by tile; yields ``(y, rows)``: finished output rows ``y … y + h`` as a new
    ``N×3×h×W`` float32 array in [0, 255], top to bottom, covering all ``H`` rows.

    Each tile position is stylized for all N images in one call. ``statistics``: packed
    instance-norm statistics every tile is normalised with (see
    :mod:`stylenet.serve.shared_statistics`), ``None`` = each tile's own. Rows below the next
    row of tiles' start are final once the current row of tiles is added; the overlapping
    rest is carried into the next row.
    """
    options = {} if statistics is None else {"statistics": statistics}
    check_tiling(tile, overlap)
    count, height, width = images.shape[0], images.shape[-2], images.shape[-1]
    tile_h, tile_w = min(tile, height), min(tile, width)
    rows = tile_starts(height, tile, overlap)
    columns = tile_starts(width, tile, overlap)
    carried: tuple[np.ndarray, np.ndarray] | None = None
    for index, y in enumerate(rows):
        out = np.zeros((count, 3, tile_h, width), dtype=np.float32)
        total = np.zeros((tile_h, width), dtype=np.float32)
        if carried is not None:
            kept = carried[1].shape[0]
            out[..., :kept, :] = carried[0]
            total[:kept] = carried[1]
        row_weight = ramp(tile_h, overlap, y > 0, y + tile_h < height)
        for x in columns:
            crop = np.ascontiguousarray(
                images[..., y : y + tile_h, x : x + tile_w], dtype=np.float32
            )
            stylized = np.asarray(stylizer(crop, style_weights, **options), dtype=np.float32)
            weight = np.outer(row_weight, ramp(tile_w, overlap, x > 0, x + tile_w < width))
            out[..., x : x + tile_w] += stylized * weight
            total[:, x : x + tile_w] += weight
        done = rows[index + 1] - y if index + 1 < len(rows) else tile_h
        yield y, out[..., :done, :] / total[:done]
        carried = out[..., done:, :].copy(), total[done:].copy()


def stylize_tiled(
    stylizer: Stylizer,
    images: np.ndarray,
    style_weights: np.ndarray | None = None,
    *,
    tile: int = DEFAULT_TILE,
    overlap: int = DEFAULT_OVERLAP,
    statistics: np.ndarray | None = None,
) -> np.ndarray:
    """``N×3×H×W`` in [0, 255] (+ ``N×S`` blend) → stylized ``N×3×H×W`` float32 in [0, 255]
    (a new array), assembled from :func:`tiled_rows` (same arguments)."""
    out = np.empty((images.shape[0], 3, *images.shape[-2:]), dtype=np.float32)
    for y, rows in tiled_rows(
        stylizer, images, style_weights, tile=tile, overlap=overlap, statistics=statistics
    ):
        out[..., y : y + rows.shape[-2], :] = rows
    return out


def tile_edges(length: int, tile: int, overlap: int) -> list[int]:
    """Interior positions where a tile starts or ends: where a hard seam would show."""
    starts = tile_starts(length, tile, overlap)
    edges = set(starts[1:]) | {s + tile for s in starts[:-1]}
    return sorted(e for e in edges if 0 < e < length)


def seam_ratio(image: np.ndarray, tile: int, overlap: int, band: int = 16) -> float:
    """Largest ratio, over tile edges, of the mean |pixel step| across the edge to the mean
    |step| within ``band`` px of it (``H×W×C`` array): ~1 = invisible edge, a seam gives
    several."""
    values = np.asarray(image, dtype=np.float32)
    worst = 0.0
    for axis, reduce in ((1, (0, 2)), (0, (1, 2))):  # steps between columns, then rows
        profile = np.abs(np.diff(values, axis=axis)).mean(axis=reduce)
        for edge in tile_edges(values.shape[axis], tile, overlap):
            near = profile[max(0, edge - band) : edge + band]
            worst = max(worst, float(profile[edge - 1] / max(float(near.mean()), 1e-8)))
    return worst
