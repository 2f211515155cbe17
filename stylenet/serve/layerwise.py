"""Exact tiled inference: the network run layer by layer over all tiles.

Tiling a network with instance norm changes its output: each tile would normalise with its own
statistics (tone blocks), and shared estimates of the whole image's statistics (a thumbnail's,
URST: Chen et al. 2022; or calibrated ones, :mod:`stylenet.serve.shared_statistics`) are close
but not exact. Here every layer runs over the whole picture, one tile at a time, before the next
layer starts: each tile's convolution reads its input with a halo of the kernel's reach, the
layer's per-channel moments are accumulated over all tiles (in float64), and only then is the
layer normalised. The result is a single pass's output (up to floating-point summation order)
while one tile's activations are in memory at a time; the activations between layers live in
memory-mapped files, so memory is set by the tile size, not the picture.

The runner is NumPy; the convolutions and the per-style affine parameters come from a
:class:`Layers` backend: PyTorch (:class:`stylenet.serve.torch_backend.TorchLayers`) or ONNX
Runtime on a format-3 model's layer graphs (:class:`stylenet.serve.runtime.OnnxLayers`).
Compute is one pass's plus the halos; the price is the disk traffic of the layer maps.
"""

from __future__ import annotations

import math
import mmap
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from stylenet.export.contract import LayerSpec

SIZE_MULTIPLE = 4  # the network pads its input to a multiple of its total stride
OUTPUT_ROWS = 256  # rows of the result handed out at a time
# ``tile`` px is the side of a tile of a layer with this many channels; wider layers get
# proportionally fewer pixels a tile, so every layer's tile holds about the same bytes
TILE_CHANNELS = 16
# layer maps are held in memory while the live ones total at most this many bytes (small
# pictures: no file traffic); beyond it they go to files, so memory stays bounded
MAP_MEMORY = 256 * 2**20


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


def spans(length: int, tile: int) -> list[tuple[int, int]]:
    """Disjoint ``[start, end)`` spans of nearly equal length, each ``<= tile``, covering
    ``length``."""
    count = max(1, math.ceil(length / tile))
    bounds = [round(i * length / count) for i in range(count + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(count) if bounds[i + 1] > bounds[i]]


class LayerMap:
    """A float32 ``N×C×H×W`` map in a file, memory-mapped: ``map[index]`` reads a piece (a new
    array), ``map[index] = value`` writes one, and :meth:`let_go` hands the mapped pages back
    to the operating system (the file keeps the data), so the process's resident memory holds
    the band of the map in use, not the map."""

    def __init__(self, path: Path, shape: tuple[int, ...]) -> None:
        self.path = path
        self.shape = tuple(int(s) for s in shape)
        with path.open("wb") as handle:
            handle.truncate(4 * math.prod(self.shape))
        with path.open("r+b") as handle:  # the mapping stays valid after the file is closed
            self._mmap = mmap.mmap(handle.fileno(), 4 * math.prod(self.shape))
        self._array = np.frombuffer(self._mmap, dtype=np.float32).reshape(self.shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def array(self) -> np.ndarray:
        """The mapped ``N×C×H×W`` array (reading a slice touches only its pages)."""
        return self._array

    def __getitem__(self, index: Any) -> np.ndarray:
        return np.array(self._array[index])

    def __setitem__(self, index: Any, value: np.ndarray | float) -> None:
        self._array[index] = value

    def let_go(self) -> None:
        """Unmap the resident pages (shared file pages: written data is kept); where the
        platform has no ``madvise``, the operating system decides."""
        if hasattr(self._mmap, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
            self._mmap.madvise(mmap.MADV_DONTNEED)

    def close(self) -> None:
        """Unmap the file (after this the map cannot be read)."""
        del self._array
        self._mmap.close()


def let_go(*maps: Map | None) -> None:
    """:meth:`LayerMap.let_go` for the file-backed ones among ``maps``."""
    for layer_map in maps:
        if isinstance(layer_map, LayerMap):
            layer_map.let_go()


Map = np.ndarray | LayerMap  # a layer map: in memory, or in a file


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

    def new(self, shape: tuple[int, ...]) -> Map:
        size = 4 * math.prod(shape)
        if self._held + size <= self.memory:
            self._held += size
            return np.empty(shape, dtype=np.float32)  # every element is written before read
        self._count += 1
        return LayerMap(self.folder / f"map_{self._count:03d}.f32", shape)

    def release(self, layer_map: Map) -> None:
        """Drop a map no later layer reads (a file's disk space returns at once)."""
        if isinstance(layer_map, LayerMap):
            layer_map.close()
            layer_map.path.unlink(missing_ok=True)
        else:
            self._held -= layer_map.nbytes

    def close(self) -> None:
        self._temporary.cleanup()


def _tiles(
    height: int, width: int, tile: int, *maps: Map | None
) -> Iterator[tuple[int, int, int, int]]:
    """Tiles ``(y0, y1, x0, x1)`` row by row; after each row of tiles the file-backed
    ``maps`` let their pages go (:meth:`LayerMap.let_go`)."""
    for y0, y1 in spans(height, tile):
        for x0, x1 in spans(width, tile):
            yield y0, y1, x0, x1
        let_go(*maps)


def upsample2(x: np.ndarray, mode: str) -> np.ndarray:
    """``N×C×h×w`` → ``N×C×2h×2w``: nearest, or bilinear with half-pixel centres and the edge
    rows repeated (``torch.nn.functional.interpolate(scale_factor=2, align_corners=False)``)."""
    if mode == "nearest":  # one copy: a broadcast view reshaped
        n, c, h, w = x.shape
        return np.broadcast_to(x[:, :, :, None, :, None], (n, c, h, 2, w, 2)).reshape(
            n, c, 2 * h, 2 * w
        )
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


def _mapped(source: Map) -> np.ndarray:
    """The array behind a map (a file's mapped view: slicing it reads no more than asked)."""
    return source.array if isinstance(source, LayerMap) else source


def read_window(
    source: Map,
    rows: tuple[int, int],
    cols: tuple[int, int],
    upsample: str | None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Rows ``rows`` and columns ``cols`` (``[start, end)``, possibly beyond the map) of
    ``source`` (``N×C×H×W``), upsampled ×2 first when ``upsample`` is set, reflection-padded
    beyond the map's edges as the layer pads the whole map. Written into ``out`` when it has
    the window's shape (a buffer reused across tiles), else into a new float32 array."""
    array = _mapped(source)
    height, width = array.shape[-2:]
    if upsample is not None:
        height, width = 2 * height, 2 * width
    (r0, r1), (c0, c1) = rows, cols
    a, b, c, d = max(0, r0), min(height, r1), max(0, c0), min(width, c1)
    if upsample is None:
        core = array[..., a:b, c:d]
    else:
        s0, s1 = _upsampled_rows(a, b, array.shape[-2], upsample)
        t0, t1 = _upsampled_rows(c, d, array.shape[-1], upsample)
        big = upsample2(np.asarray(array[..., s0:s1, t0:t1]), upsample)
        core = big[..., a - 2 * s0 : b - 2 * s0, c - 2 * t0 : d - 2 * t0]
    shape = (*array.shape[:2], r1 - r0, c1 - c0)
    window = out if out is not None and out.shape == shape else np.empty(shape, np.float32)
    top, left, h, w = a - r0, c - c0, b - a, d - c
    window[..., top : top + h, left : left + w] = core
    for j in range(left):  # reflection without the edge, columns first, then whole rows
        window[..., top : top + h, left - 1 - j] = window[..., top : top + h, left + 1 + j]
    for j in range(c1 - d):
        window[..., top : top + h, left + w + j] = window[..., top : top + h, left + w - 2 - j]
    for i in range(top):
        window[..., top - 1 - i, :] = window[..., top + 1 + i, :]
    for i in range(r1 - b):
        window[..., top + h + i, :] = window[..., top + h - 2 - i, :]
    return window


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
    layers: Layers, index: int, source: Map, out: Map, tile: int
) -> tuple[np.ndarray, np.ndarray]:
    """Layer ``index``'s [upsampling,] padding and convolution of ``source`` into ``out``
    tile by tile; returns the output's per-image, per-channel ``(mean, biased variance)``
    (``N×C`` float64)."""
    spec = layers.plan[index]
    k, stride, pad = spec.kernel, spec.stride, spec.kernel // 2
    height, width = out.shape[-2:]
    total = np.zeros(out.shape[:2])
    squares = np.zeros(out.shape[:2])
    buffers: dict[tuple[int, int], np.ndarray] = {}  # one window buffer per tile shape
    for y0, y1, x0, x1 in _tiles(height, width, tile, source, out):
        rows = (y0 * stride - pad, (y1 - 1) * stride - pad + k)
        cols = (x0 * stride - pad, (x1 - 1) * stride - pad + k)
        size = (rows[1] - rows[0], cols[1] - cols[0])
        window = read_window(source, rows, cols, spec.upsample, buffers.get(size))
        buffers[size] = window
        y = layers.convolve(index, window)
        out[..., y0:y1, x0:x1] = y
        # float32 sums along each row (at most a tile wide), float64 over rows and tiles
        planes = y.reshape(-1, y.shape[2], y.shape[3])
        total += planes.sum(axis=2).sum(axis=1, dtype=np.float64).reshape(total.shape)
        row_squares = np.einsum("ijk,ijk->ij", planes, planes)
        squares += row_squares.sum(axis=1, dtype=np.float64).reshape(squares.shape)
    count = height * width
    mean = total / count
    return mean, np.maximum(squares / count - mean**2, 0.0)


def normalize(
    spec: LayerSpec,
    maps: Map,
    affine: tuple[np.ndarray, np.ndarray] | None,
    moments: tuple[np.ndarray, np.ndarray] | None,
    tile: int,
    residual: Map | None = None,
) -> None:
    """``spec``'s norm (``scale · (x - mean) / sqrt(var + eps) + shift`` with the whole map's
    ``moments``, or ``scale · x + shift`` for a fixed norm) and activation applied to ``maps``
    in place, tile by tile; ``residual`` is added after."""
    if spec.norm is None and not spec.activation and residual is None:
        return
    folded: tuple[np.ndarray, np.ndarray] | None = None
    if affine is not None:
        scale, shift = (np.asarray(v, dtype=np.float64) for v in affine)
        if moments is not None:  # fold the moments in: y = a·x + b
            mean, var = moments
            scale = scale / np.sqrt(var + spec.eps)
            shift = shift - mean * scale
        folded = (
            scale.astype(np.float32)[:, :, None, None],
            shift.astype(np.float32)[:, :, None, None],
        )
    height, width = maps.shape[-2:]
    target, added = _mapped(maps), None if residual is None else _mapped(residual)
    for y0, y1, x0, x1 in _tiles(height, width, tile, maps, residual):
        x = target[..., y0:y1, x0:x1]  # a view: changed in place (a file's mapped pages)
        if folded is not None:
            x *= folded[0]
            x += folded[1]
        if spec.activation:
            np.maximum(x, 0, out=x)
        if added is not None:
            x += added[..., y0:y1, x0:x1]


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
    out = store.new((count, 3, height + pad_h, width + pad_w))
    for y in range(0, height, OUTPUT_ROWS):
        rows = np.asarray(image[..., y : y + OUTPUT_ROWS, :], np.float32) / np.float32(255.0)
        if pad_w:
            rows = np.pad(rows, ((0, 0), (0, 0), (0, 0), (0, pad_w)), mode="reflect")
        out[..., y : y + rows.shape[-2], :] = rows
        let_go(out)
    for i in range(pad_h):  # reflection: row height + i mirrors row height - 2 - i
        out[..., height + i, :] = out[..., height - 2 - i, :]
    let_go(out)
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
        inputs: dict[int, Map] = {}  # inputs later layers still add
        source = input_map(image, store)
        for index, spec in enumerate(plan):
            out = store.new(output_shape(spec, source.shape))
            side = layer_tile(spec, tile)
            moments = convolve(layers, index, source, out, side)
            affine = layers.affine(index, style_weights) if spec.norm is not None else None
            residual = None if spec.add_input_of is None else inputs.pop(spec.add_input_of)
            normalize(
                spec, out, affine, moments if spec.norm == "instance" else None, side, residual
            )
            if index in readers:
                inputs[index] = source
            else:
                store.release(source)
            if residual is not None:
                store.release(residual)
            source = out
        for y in range(0, height, OUTPUT_ROWS):
            rows = np.asarray(source[..., y : min(height, y + OUTPUT_ROWS), :width])
            let_go(source)
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
