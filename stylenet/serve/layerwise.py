"""Exact tiled inference: the network run layer by layer over all tiles.

Tiling a network with instance norm changes its output: each tile would normalise with its own
statistics (tone blocks), and shared estimates of the whole image's statistics (a thumbnail's,
URST: Chen et al. 2022; or calibrated ones, :mod:`stylenet.serve.shared_statistics`) are close
but not exact. Here every layer runs over the whole picture, one tile at a time, before the next
layer starts: each tile's convolution reads its input with a halo of the kernel's reach, the
layer's per-channel moments are accumulated over all tiles (in float64), and only then is the
layer normalised. The result is a single pass's output (up to floating-point summation order)
while one tile's activations are in memory at a time; the activations between layers live in
files read and written a window at a time (:class:`LayerMap`), so memory is set by the tile
size, not the picture.

The runner is NumPy; the convolutions and the per-style affine parameters come from a
:class:`Layers` backend: PyTorch (:class:`stylenet.export.layers.TorchLayers`) or ONNX
Runtime on a format-3 model's layer graphs (:class:`stylenet.serve.runtime.OnnxLayers`).
Compute is one pass's plus the halos; the price is the traffic of the layer maps, kept low:
a layer's norm and activation are applied as its map is read by the next layer
(:class:`Pointwise`), not in a pass of their own, except where a residual is added; and the
NumPy passes over a tile split its channels over threads.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

import numpy as np

from stylenet.export.contract import LayerSpec
from stylenet.serve.tiling import spans

SIZE_MULTIPLE = 4  # the network pads its input to a multiple of its total stride
OUTPUT_ROWS = 256  # rows of the result handed out at a time
# ``tile`` px is the side of a tile of a layer with this many channels; wider layers get
# proportionally fewer pixels a tile, so every layer's tile holds about the same bytes
TILE_CHANNELS = 16
# layer maps are held in memory while the live ones total at most this many bytes (small
# pictures: no file traffic); beyond it they go to files, so memory stays bounded
MAP_MEMORY = 256 * 2**20
# a map in a file is stored in column blocks this wide (at most): a window reads the blocks it
# touches, so a read costs little more than the window; narrower blocks mean more calls
BLOCK_COLUMNS = 128
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


class LayerMap:
    """A float32 ``N×C×H×W`` map in a file, stored in column blocks (block ``k``, columns
    ``[k·block, (k+1)·block)``: ``N×C×H×w_k`` contiguous) and read and written with
    positioned I/O, not mapped: a window costs one call per block and plane, and the process
    holds only the window; the file's pages stay in the operating system's page cache, outside
    the process, so its memory is set by the tile, not the picture's width. Writes cover whole
    blocks (tiles of :func:`block_spans`); reads take any window inside the map."""

    def __init__(self, path: Path, shape: tuple[int, ...], block: int = BLOCK_COLUMNS) -> None:
        if len(shape) != 4 or block < 1:
            raise ValueError(f"a layer map is N×C×H×W with block >= 1, got {shape}, {block}")
        self.path = path
        self.shape = tuple(int(s) for s in shape)
        self.block = int(block)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        os.ftruncate(self._fd, 4 * math.prod(self.shape))
        self._staging: np.ndarray | None = None  # one block's rows, reused across reads

    def _blocks(self, c0: int, c1: int) -> Iterator[tuple[int, int]]:
        """The blocks ``[b0, b1)`` that columns ``[c0, c1)`` touch."""
        width = self.shape[3]
        for b0 in range(c0 // self.block * self.block, c1, self.block):
            yield b0, min(width, b0 + self.block)

    def _offset(self, b0: int, b1: int, plane: int, row: int) -> int:
        """Byte offset of ``row`` of plane ``plane`` (``n·C + c``) in block ``[b0, b1)``."""
        n, c, h, _ = self.shape
        return 4 * (b0 * n * c * h + (plane * h + row) * (b1 - b0))

    def read(
        self, rows: tuple[int, int], cols: tuple[int, int], out: np.ndarray | None = None
    ) -> np.ndarray:
        """Rows and columns ``[start, end)`` (inside the map) → ``N×C×h×w``: written into
        ``out`` when given (any strides, e.g. the inside of a padded window), else a new
        array."""
        (r0, r1), (c0, c1) = rows, cols
        n, c, height, width = self.shape
        if not (0 <= r0 < r1 <= height and 0 <= c0 < c1 <= width):
            raise ValueError(f"window {rows}×{cols} is outside the {height}×{width} map")
        if out is None:
            out = np.empty((n, c, r1 - r0, c1 - c0), np.float32)
        for b0, b1 in self._blocks(c0, c1):
            lo, hi = max(b0, c0), min(b1, c1)
            size = (r1 - r0) * (b1 - b0)
            if self._staging is None or self._staging.size < size:
                self._staging = np.empty(size, np.float32)
            staging = self._staging[:size].reshape(r1 - r0, b1 - b0)
            for i, j in itertools.product(range(n), range(c)):
                plane = out[i, j]
                if (c0, c1) == (b0, b1) and plane.flags.c_contiguous:  # the block: read it in
                    _pread(self._fd, plane, self._offset(b0, b1, i * c + j, r0))
                else:
                    _pread(self._fd, staging, self._offset(b0, b1, i * c + j, r0))
                    plane[:, lo - c0 : hi - c0] = staging[:, lo - b0 : hi - b0]
        return out

    def write(self, rows: tuple[int, int], cols: tuple[int, int], value: np.ndarray) -> None:
        """Write ``value`` (``N×C×h×w``) at rows and columns ``[start, end)``; the columns
        start at a block's start and end at one's end (or the map's right edge)."""
        (r0, r1), (c0, c1) = rows, cols
        n, c, height, width = self.shape
        if c0 % self.block or (c1 % self.block and c1 != width) or not 0 <= r0 < r1 <= height:
            raise ValueError(f"write {rows}×{cols} is not whole blocks of {self.block} columns")
        value = np.asarray(value, dtype=np.float32)
        planes = np.broadcast_to(value, (n, c, r1 - r0, c1 - c0)).reshape(n * c, r1 - r0, -1)
        for b0, b1 in self._blocks(c0, c1):
            for plane in range(n * c):
                piece = np.ascontiguousarray(planes[plane, :, b0 - c0 : b1 - c0])
                written = os.pwritev(self._fd, [piece.data], self._offset(b0, b1, plane, r0))
                if written != piece.nbytes:
                    raise OSError(f"short write to {self.path}: {written} of {piece.nbytes} bytes")

    def close(self) -> None:
        """Close the file (after this the map cannot be read)."""
        os.close(self._fd)


def _pread(fd: int, target: np.ndarray, offset: int) -> None:
    """Fill the contiguous ``target`` from ``fd`` at ``offset``."""
    count = os.preadv(fd, [target.data], offset)
    if count != target.nbytes:
        raise OSError(f"short read from a layer map: {count} of {target.nbytes} bytes")


Map = np.ndarray | LayerMap  # a layer map: in memory, or in a file


def read(
    source: Map, rows: tuple[int, int], cols: tuple[int, int], out: np.ndarray | None = None
) -> np.ndarray:
    """Rows and columns ``[start, end)`` of a map: copied into ``out`` when given; else a view
    of an in-memory map (changes to it change the map), or a new array from a file."""
    if isinstance(source, LayerMap):
        return source.read(rows, cols, out)
    piece = source[..., rows[0] : rows[1], cols[0] : cols[1]]
    if out is None:
        return piece
    out[...] = piece
    return out


def write(target: Map, rows: tuple[int, int], cols: tuple[int, int], value: np.ndarray) -> None:
    """Write ``value`` at rows and columns ``[start, end)`` of a map (whole blocks of a
    file's, :meth:`LayerMap.write`)."""
    if isinstance(target, LayerMap):
        target.write(rows, cols, value)
    else:
        target[..., rows[0] : rows[1], cols[0] : cols[1]] = value


class MapStore:
    """The layer maps: in memory while the live ones fit in ``memory`` bytes, else
    :class:`LayerMap` files in a temporary folder (under ``folder`` when given); the files
    are removed by :meth:`close`."""

    def __init__(self, folder: str | Path | None = None, memory: int = MAP_MEMORY) -> None:
        self._temporary = tempfile.TemporaryDirectory(prefix="stylenet-layers-", dir=folder)
        self.folder = Path(self._temporary.name)
        self.memory = memory
        self._held = 0  # bytes of the live in-memory maps
        self._count = 0

    def new(self, shape: tuple[int, ...], block: int = BLOCK_COLUMNS) -> Map:
        """A map of ``shape``; a file's is stored in column blocks of ``block`` px."""
        size = 4 * math.prod(shape)
        if self._held + size <= self.memory:
            self._held += size
            return np.empty(shape, dtype=np.float32)  # every element is written before read
        self._count += 1
        return LayerMap(self.folder / f"map_{self._count:03d}.f32", shape, block)

    def adopt(self, array: np.ndarray, block: int = BLOCK_COLUMNS) -> Map:
        """``array`` (``N×C×H×W`` float32) as a map: itself while it fits in memory (it is
        changed in place later), else a file holding a copy."""
        if self._held + array.nbytes <= self.memory:
            if not (array.flags.writeable and array.flags.c_contiguous):
                array = np.array(array, dtype=np.float32)
            self._held += array.nbytes
            return array
        layer_map = self.new(array.shape, block)
        write(layer_map, (0, array.shape[2]), (0, array.shape[3]), array)
        return layer_map

    def release(self, layer_map: Map) -> None:
        """Drop a map no later layer reads (a file's disk space returns at once)."""
        if isinstance(layer_map, LayerMap):
            layer_map.close()
            layer_map.path.unlink(missing_ok=True)
        else:
            self._held -= layer_map.nbytes

    def close(self) -> None:
        self._temporary.cleanup()


def block_spans(length: int, tile: int, block: int) -> list[tuple[int, int]]:
    """Disjoint ``[start, end)`` spans covering ``length``, each at most
    ``max(tile, block)`` long, that start and end on multiples of ``block`` (the last ends at
    ``length``): tiles that write whole column blocks of a :class:`LayerMap`."""
    units = math.ceil(length / block)
    per = max(1, tile // block)
    return [(start * block, min(length, end * block)) for start, end in spans(units, per)]


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


def block_of(layer_map: Map) -> int:
    """The column block of a file-backed map; 1 (any columns) for one in memory."""
    return layer_map.block if isinstance(layer_map, LayerMap) else 1


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
        piece = np.array(piece)  # a view of the map: copy before changing it
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
            out = store.new(shape, block) if out is None else out
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
        x = read(maps, rows, cols)  # in memory a view, changed in place; from a file a copy
        if pointwise is not None:
            pointwise.apply(x)
        shape = (*residual.shape[:2], y1 - y0, x1 - x0)
        if buffer.size < math.prod(shape):
            buffer = np.empty(math.prod(shape), np.float32)
        added = read(residual, rows, cols, out=buffer[: math.prod(shape)].reshape(shape))
        if residual_pointwise is not None:
            residual_pointwise.apply(added)
        by_channels(partial(_add, x, added), x.shape[1])
        if isinstance(maps, LayerMap):
            maps.write(rows, cols, x)


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
