"""Exact tiled inference: the network run layer by layer over all tiles.

Tiling a network with instance norm changes its output: each tile would normalise with its own
statistics (tone blocks), and shared estimates of the whole image's statistics (a thumbnail's,
URST: Chen et al. 2022; or calibrated ones, :mod:`stylenet.serve.shared_statistics`) are close
but not exact. Here every layer runs over the whole picture, one tile at a time, before the next
layer starts: each tile's convolution reads its input with a halo of the kernel's reach, the
layer's per-channel moments are accumulated over all tiles (in float64), and only then is the
layer normalised. The result is a single pass's output (up to floating-point summation order)
while one tile's activations are in memory at a time; the activations between layers live in
files read and written a window at a time (:mod:`stylenet.serve.layer_maps`), so memory is
set by the tile size, not the picture.

The runner is NumPy; the convolutions and the per-style affine parameters come from a
:class:`Layers` backend: PyTorch (:class:`stylenet.nn.layer_plan.TorchLayers`) or ONNX
Runtime on a format-3 model's layer graphs (:class:`stylenet.serve.runtime.OnnxLayers`).
Compute is one pass's plus the halos; the price is the traffic of the layer maps, kept low:
a layer's norm and activation are applied as its map is read by the next layer
(:class:`Pointwise`), not in a pass of their own, except where a residual is added; and the
NumPy passes over a tile split its channels over threads.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

import numpy as np

from stylenet.contract import LayerSpec
from stylenet.serve.layer_maps import (
    BLOCK_COLUMNS,
    MAP_MEMORY,
    LayerMap,
    Map,
    MapStore,
    TileMap,
    block_of,
    block_spans,
    read,
    write,
)
from stylenet.serve.tiling import spans

SIZE_MULTIPLE = 4  # the network pads its input to a multiple of its total stride
OUTPUT_ROWS = 256  # rows of the result handed out at a time
# ``tile`` px is the side of a tile of a layer with this many channels; wider layers get
# proportionally fewer pixels a tile, so every layer's tile holds about the same bytes
TILE_CHANNELS = 16
# the pipeline runs tiles of at least this side layer by layer: the result is the same at any
# tile size, and below it the per-call overhead (a convolution call, reads and writes a
# tile and layer) costs more time than the few MB a smaller tile saves
MIN_TILE = 512


class Layers(Protocol):
    """What the runner needs of a network: its plan and two computations per layer."""

    plan: list[LayerSpec]

    def convolve(self, index: int, window: np.ndarray) -> np.ndarray:
        """Layer ``index``'s convolution (no padding) of ``window`` (``N×C_in×h×w`` float32,
        already upsampled and padded) → ``N×C_out×h'×w'`` float32."""
        ...

    def affine(self, index: int, style_weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Layer ``index``'s ``(scale, shift)`` after normalisation (``N×C`` or ``1×C``
        float32), the per-style parameters blended by ``style_weights`` (``N×S``)."""
        ...


THREADS = min(4, os.cpu_count() or 1)  # NumPy passes over a tile split by channels


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(THREADS, thread_name_prefix="stylenet-layerwise")


def by_channels(function: Callable[[int, int], None], channels: int) -> None:
    """``function(c0, c1)`` over :data:`THREADS` disjoint channel ranges ``[c0, c1)`` at once
    (NumPy lets go of the interpreter lock in its loops, so the passes over a tile between
    two convolutions use every core)."""
    chunks = spans(channels, math.ceil(channels / THREADS))
    if len(chunks) == 1:
        function(*chunks[0])
        return
    for job in [_pool().submit(function, c0, c1) for c0, c1 in chunks]:
        job.result()


def _tiles(height: int, width: int, tile: int, block: int) -> Iterator[tuple[int, int, int, int]]:
    """Tiles ``(y0, y1, x0, x1)`` row by row, their columns whole blocks of ``block``."""
    for y0, y1 in spans(height, tile):
        for x0, x1 in block_spans(width, tile, block):
            yield y0, y1, x0, x1


def upsample2(x: np.ndarray, mode: str) -> np.ndarray:
    """``N×C×h×w`` → ``N×C×2h×2w``: nearest, or bilinear with half-pixel centres and the edge
    rows repeated (``torch.nn.functional.interpolate(scale_factor=2, align_corners=False)``)."""
    if mode == "nearest":  # strided copies (a reshaped 6-d broadcast is several times slower)
        n, c, h, w = x.shape
        out = np.empty((n, c, 2 * h, 2 * w), np.float32)
        out[..., 0::2, 0::2] = x
        out[..., 0::2, 1::2] = x
        out[..., 1::2, :] = out[..., 0::2, :]
        return out
    for axis in (-2, -1):
        before = np.concatenate([_take(x, axis, 0, 1), _take(x, axis, 0, -1)], axis=axis)
        after = np.concatenate([_take(x, axis, 1, None), _take(x, axis, -1, None)], axis=axis)
        even = np.float32(0.75) * x + np.float32(0.25) * before
        odd = np.float32(0.75) * x + np.float32(0.25) * after
        shape = list(even.shape)
        shape[axis] *= 2
        x = np.stack([even, odd], axis=axis).reshape(shape)  # interleave even and odd
    return x


def _take(x: np.ndarray, axis: int, start: int, stop: int | None) -> np.ndarray:
    index = [slice(None)] * x.ndim
    index[axis] = slice(start, stop)
    return x[tuple(index)]


def _upsampled_rows(start: int, end: int, length: int, mode: str) -> tuple[int, int]:
    """Rows of the source (``length`` rows) that rows ``[start, end)`` of its ×2 upsampling
    read: one more on each side for bilinear interpolation."""
    margin = 1 if mode == "bilinear" else 0
    return max(0, start // 2 - margin), min(length, (end - 1) // 2 + 1 + margin)


def read_window(
    source: Map,
    rows: tuple[int, int],
    cols: tuple[int, int],
    upsample: str | None,
    out: np.ndarray | None = None,
    pointwise: Pointwise | None = None,
) -> np.ndarray:
    """Rows ``rows`` and columns ``cols`` (``[start, end)``, possibly beyond the map) of
    ``source`` (``N×C×H×W``), upsampled ×2 first when ``upsample`` is set, reflection-padded
    beyond the map's edges as the layer pads the whole map. Written into ``out`` when it has
    the window's shape (a buffer reused across tiles), else into a new float32 array.
    ``pointwise``: the source's deferred norm and activation, applied to what is read."""
    height, width = source.shape[-2:]
    if upsample is not None:
        height, width = 2 * height, 2 * width
    (r0, r1), (c0, c1) = rows, cols
    a, b, c, d = max(0, r0), min(height, r1), max(0, c0), min(width, c1)
    shape = (*source.shape[:2], r1 - r0, c1 - c0)
    window = out if out is not None and out.shape == shape else np.empty(shape, np.float32)
    top, left, h, w = a - r0, c - c0, b - a, d - c
    inner = window[..., top : top + h, left : left + w]
    if upsample is None:
        read(source, (a, b), (c, d), out=inner)
        if pointwise is not None:
            pointwise.apply(inner)
    elif upsample == "nearest":  # four strided copies: each source pixel to its 2×2 block
        small = _read_applied(
            source, (a // 2, (b - 1) // 2 + 1), (c // 2, (d - 1) // 2 + 1), pointwise
        )
        for i in (0, 1):
            for j in (0, 1):
                part = inner[..., i::2, j::2]  # rows a+i, a+i+2, …: source rows (a+i)//2, …
                y, x = (a + i) // 2 - a // 2, (c + j) // 2 - c // 2
                part[...] = small[..., y : y + part.shape[-2], x : x + part.shape[-1]]
    else:
        s0, s1 = _upsampled_rows(a, b, source.shape[-2], upsample)
        t0, t1 = _upsampled_rows(c, d, source.shape[-1], upsample)
        big = upsample2(_read_applied(source, (s0, s1), (t0, t1), pointwise), upsample)
        inner[...] = big[..., a - 2 * s0 : b - 2 * s0, c - 2 * t0 : d - 2 * t0]
    for j in range(left):  # reflection without the edge, columns first, then whole rows
        window[..., top : top + h, left - 1 - j] = window[..., top : top + h, left + 1 + j]
    for j in range(c1 - d):
        window[..., top : top + h, left + w + j] = window[..., top : top + h, left + w - 2 - j]
    for i in range(top):
        window[..., top - 1 - i, :] = window[..., top + 1 + i, :]
    for i in range(r1 - b):
        window[..., top + h + i, :] = window[..., top + h - 2 - i, :]
    return window


def _read_applied(
    source: Map, rows: tuple[int, int], cols: tuple[int, int], pointwise: Pointwise | None
) -> np.ndarray:
    """A piece of ``source`` with ``pointwise`` applied (to a copy: the map is unchanged)."""
    piece = read(source, rows, cols)
    if pointwise is None:
        return piece
    if not isinstance(source, LayerMap):
        piece = np.array(piece)  # possibly a view of the map: copy before changing it
    pointwise.apply(piece)
    return piece


def output_shape(spec: LayerSpec, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """``N×C_out×H'×W'`` of layer ``spec`` on an ``N×C_in×H×W`` map."""
    height, width = shape[-2:]
    if spec.upsample is not None:
        height, width = 2 * height, 2 * width
    pad, k, stride = spec.kernel // 2, spec.kernel, spec.stride
    return (
        shape[0],
        spec.out_channels,
        (height + 2 * pad - k) // stride + 1,
        (width + 2 * pad - k) // stride + 1,
    )


def convolve(
    layers: Layers,
    index: int,
    source: Map,
    store: MapStore,
    tile: int,
    pointwise: Pointwise | None = None,
) -> tuple[Map, tuple[np.ndarray, np.ndarray]]:
    """Layer ``index``'s [upsampling,] padding and convolution of ``source`` tile by tile
    into a new map of ``store`` (a single tile's result is the map: no copy), ``source``'s
    deferred ``pointwise`` applied to each window; returns the map and its per-image,
    per-channel ``(mean, biased variance)`` (``N×C`` float64)."""
    spec = layers.plan[index]
    k, stride, pad = spec.kernel, spec.stride, spec.kernel // 2
    shape = output_shape(spec, source.shape)
    block = min(BLOCK_COLUMNS, tile)
    height, width = shape[-2:]
    total = np.zeros(shape[:2])
    squares = np.zeros(shape[:2])
    buffer = np.empty(0, np.float32)  # the window's memory, reused across tiles
    tiles = list(_tiles(height, width, tile, block))
    out: Map | None = None
    for y0, y1, x0, x1 in tiles:
        rows = (y0 * stride - pad, (y1 - 1) * stride - pad + k)
        cols = (x0 * stride - pad, (x1 - 1) * stride - pad + k)
        window_shape = (*source.shape[:2], rows[1] - rows[0], cols[1] - cols[0])
        if buffer.size < math.prod(window_shape):
            buffer = np.empty(math.prod(window_shape), np.float32)
        view = buffer[: math.prod(window_shape)].reshape(window_shape)
        window = read_window(source, rows, cols, spec.upsample, view, pointwise)
        y = layers.convolve(index, window)
        if len(tiles) == 1:
            out = store.adopt(y, block)
        else:
            out = store.new(shape, block, tiles=True) if out is None else out
            if isinstance(out, TileMap):
                out.keep((y0, y1), (x0, x1), y)  # the convolution's output, not copied
            else:
                write(out, (y0, y1), (x0, x1), y)
        by_channels(partial(_accumulate, y, total, squares), y.shape[1])
    count = height * width
    mean = total / count
    assert out is not None  # there is always a tile
    return out, (mean, np.maximum(squares / count - mean**2, 0.0))


def _accumulate(y: np.ndarray, total: np.ndarray, squares: np.ndarray, c0: int, c1: int) -> None:
    """Add channels ``[c0, c1)`` of ``y``'s (``N×C×h×w``) sums and sums of squares to
    ``total`` and ``squares`` (``N×C`` float64): float32 along each row (at most a tile
    wide), float64 over rows and tiles."""
    part = y[:, c0:c1]
    total[:, c0:c1] += part.sum(axis=3).sum(axis=2, dtype=np.float64)
    squares[:, c0:c1] += np.einsum("ncij,ncij->nci", part, part).sum(axis=2, dtype=np.float64)


@dataclass(frozen=True)
class Pointwise:
    """A layer's folded norm and activation, ``max(a·x + b, 0)`` per channel: applied to a
    map in place (:func:`normalize`) or, deferred, to every piece read from it."""

    scale: np.ndarray | None  # N×C×1×1 float32 (a), or None: no affine
    shift: np.ndarray | None  # N×C×1×1 float32 (b)
    relu: bool

    def apply(self, x: np.ndarray) -> None:
        """Apply to ``x`` (``N×C×h×w`` float32) in place, its channels split over threads."""

        def part(c0: int, c1: int) -> None:
            piece = x[:, c0:c1]
            if self.scale is not None and self.shift is not None:
                piece *= self.scale[:, c0:c1]
                piece += self.shift[:, c0:c1]
            if self.relu:
                np.maximum(piece, 0, out=piece)

        by_channels(part, x.shape[1])


def fold(
    spec: LayerSpec,
    affine: tuple[np.ndarray, np.ndarray] | None,
    moments: tuple[np.ndarray, np.ndarray] | None,
) -> Pointwise | None:
    """``spec``'s norm (``scale · (x - mean) / sqrt(var + eps) + shift`` with the whole map's
    ``moments``, or ``scale · x + shift`` for a fixed norm) and activation as one
    :class:`Pointwise` (``None`` when the layer has neither)."""
    if affine is None and not spec.activation:
        return None
    if affine is None:
        return Pointwise(None, None, spec.activation)
    scale, shift = (np.asarray(v, dtype=np.float64) for v in affine)
    if moments is not None:  # fold the moments in: y = a·x + b
        mean, var = moments
        scale = scale / np.sqrt(var + spec.eps)
        shift = shift - mean * scale
    return Pointwise(
        scale.astype(np.float32)[:, :, None, None],
        shift.astype(np.float32)[:, :, None, None],
        spec.activation,
    )


def normalize(
    maps: Map,
    pointwise: Pointwise | None,
    tile: int,
    residual: Map,
    residual_pointwise: Pointwise | None = None,
) -> None:
    """``pointwise`` applied to ``maps`` in place, tile by tile, and ``residual`` (with its
    own deferred ``residual_pointwise``) added after."""
    height, width = maps.shape[-2:]
    buffer = np.empty(0, np.float32)  # the residual's tile, reused
    for y0, y1, x0, x1 in _tiles(height, width, tile, block_of(maps)):
        rows, cols = (y0, y1), (x0, x1)
        # in memory a view, changed in place (a tile map's own tiles); from a file a copy
        x = read(maps, rows, cols)
        if pointwise is not None:
            pointwise.apply(x)
        shape = (*residual.shape[:2], y1 - y0, x1 - x0)
        if buffer.size < math.prod(shape):
            buffer = np.empty(math.prod(shape), np.float32)
        added = read(residual, rows, cols, out=buffer[: math.prod(shape)].reshape(shape))
        if residual_pointwise is not None:
            residual_pointwise.apply(added)
        by_channels(partial(_add, x, added), x.shape[1])
        if x.base is None:  # a copy (from a file, or across tiles): write it back
            write(maps, rows, cols, x)


def _add(x: np.ndarray, added: np.ndarray, c0: int, c1: int) -> None:
    x[:, c0:c1] += added[:, c0:c1]


def input_map(image: np.ndarray, store: MapStore) -> Map:
    """``N×3×H×W`` in [0, 255] (uint8 or float) → the network's input map: scaled to [0, 1]
    and reflection-padded at the bottom and right to a multiple of 4, as the network does,
    written :data:`OUTPUT_ROWS` rows at a time (no float copy of the whole picture)."""
    count, _, height, width = image.shape
    pad_h = (SIZE_MULTIPLE - height % SIZE_MULTIPLE) % SIZE_MULTIPLE
    pad_w = (SIZE_MULTIPLE - width % SIZE_MULTIPLE) % SIZE_MULTIPLE
    if min(height, width) <= SIZE_MULTIPLE:
        raise ValueError(
            f"image must be larger than {SIZE_MULTIPLE} px a side, got {height}×{width}"
        )
    full = width + pad_w
    out = store.new((count, 3, height + pad_h, full))
    for y in range(0, height, OUTPUT_ROWS):
        rows = np.asarray(image[..., y : y + OUTPUT_ROWS, :], np.float32) / np.float32(255.0)
        if pad_w:
            rows = np.pad(rows, ((0, 0), (0, 0), (0, 0), (0, pad_w)), mode="reflect")
        write(out, (y, y + rows.shape[-2]), (0, full), rows)
    for i in range(pad_h):  # reflection: row height + i mirrors row height - 2 - i
        mirror = np.array(read(out, (height - 2 - i, height - 1 - i), (0, full)))
        write(out, (height + i, height + i + 1), (0, full), mirror)
    return out


def layer_tile(spec: LayerSpec, tile: int) -> int:
    """The tile side for layer ``spec``: ``tile`` for up to :data:`TILE_CHANNELS` channels,
    less for wider layers (the same bytes a tile), at least 8 px."""
    widest = max(spec.in_channels, spec.out_channels, TILE_CHANNELS)
    return max(8, round(tile * math.sqrt(TILE_CHANNELS / widest)))


def layerwise_rows(
    layers: Layers,
    image: np.ndarray,
    style_weights: np.ndarray | None = None,
    *,
    tile: int = 1024,
    folder: str | Path | None = None,
    map_memory: int = MAP_MEMORY,
) -> Iterator[tuple[int, np.ndarray]]:
    """The network's output on ``image`` computed layer by layer over tiles of at most
    ``tile`` px (of each layer's output; fewer for layers of more than
    :data:`TILE_CHANNELS` channels, :func:`layer_tile`), handed out as ``(y, N×3×h×W rows)`` from the top
    (:data:`OUTPUT_ROWS` at a time), float32 in [0, 255]: the single pass's result with one
    tile's activations in memory at a time. ``image``: ``N×3×H×W`` in [0, 255], uint8 or
    float; ``style_weights``: ``N×S`` rows for multi-style networks. The layer maps, the
    input's included, stay in memory while the live ones fit in ``map_memory`` bytes and go
    to files in a temporary folder (under ``folder`` when given) beyond that, removed when
    the rows are done."""
    if tile < 8:
        raise ValueError(f"tile must be at least 8 px, got {tile}")
    if image.ndim != 4 or image.shape[1] != 3:
        raise ValueError(f"image must be N×3×H×W, got {tuple(image.shape)}")
    height, width = int(image.shape[-2]), int(image.shape[-1])
    plan = layers.plan
    readers = {spec.add_input_of for spec in plan if spec.add_input_of is not None}
    store = MapStore(folder, map_memory)
    try:
        # inputs later layers still add, with their deferred norm and activation
        inputs: dict[int, tuple[Map, Pointwise | None]] = {}
        source, pending = input_map(image, store), None
        for index, spec in enumerate(plan):
            side = layer_tile(spec, tile)
            out, moments = convolve(layers, index, source, store, side, pending)
            affine = layers.affine(index, style_weights) if spec.norm is not None else None
            pointwise = fold(spec, affine, moments if spec.norm == "instance" else None)
            if index in readers:
                inputs[index] = (source, pending)
            else:
                store.release(source)
            if spec.add_input_of is None:  # deferred: applied to whatever is read of the map
                source, pending = out, pointwise
                continue
            residual, residual_pointwise = inputs.pop(spec.add_input_of)
            normalize(out, pointwise, side, residual, residual_pointwise)
            store.release(residual)
            source, pending = out, None
        for y in range(0, height, OUTPUT_ROWS):
            rows = _read_applied(source, (y, min(height, y + OUTPUT_ROWS)), (0, width), pending)
            yield y, np.float32(127.5) * (np.tanh(rows) + np.float32(1.0))
    finally:
        store.close()


def stylize_layerwise(
    layers: Layers,
    image: np.ndarray,
    style_weights: np.ndarray | None = None,
    *,
    tile: int = 1024,
    folder: str | Path | None = None,
    map_memory: int = MAP_MEMORY,
) -> np.ndarray:
    """:func:`layerwise_rows` gathered into one ``N×3×H×W`` float32 array in [0, 255]."""
    pieces = layerwise_rows(
        layers, image, style_weights, tile=tile, folder=folder, map_memory=map_memory
    )
    return np.concatenate([rows for _, rows in pieces], axis=2)
