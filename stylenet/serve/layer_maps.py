"""Layer maps: the activations between two layers of the layer-by-layer run
(:mod:`stylenet.serve.layerwise`), in memory while they fit, else in files.

A map in a file (:class:`LayerMap`) is stored in column blocks and read and written with
positioned I/O, so the process holds only the window it reads; a map in memory is an array,
or the tiles that wrote it (:class:`TileMap`), kept without a copy. :class:`MapStore` decides
which and removes the files.
"""

from __future__ import annotations

import itertools
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from stylenet.serve.tiling import spans

# layer maps are held in memory while the live ones total at most this many bytes (small
# pictures: no file traffic); beyond it they go to files, so memory stays bounded
MAP_MEMORY = 256 * 2**20
# a map in a file is stored in column blocks this wide (at most): a window reads the blocks it
# touches, so a read costs little more than the window; narrower blocks mean more calls
BLOCK_COLUMNS = 128


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


class TileMap:
    """An in-memory ``N×C×H×W`` map held as the tiles that wrote it (each ``N×C×h×w``,
    contiguous, kept as the convolution returned them: :meth:`keep`), not copied into one
    array. ``block``: the column block its tiles were cut with (:func:`block_spans`), so
    later passes can walk the same tiles."""

    def __init__(self, shape: tuple[int, ...], block: int = 1) -> None:
        if len(shape) != 4:
            raise ValueError(f"a layer map is N×C×H×W, got {shape}")
        self.shape = tuple(int(s) for s in shape)
        self.block = int(block)
        self.nbytes = 4 * math.prod(self.shape)
        self._tiles: list[tuple[int, int, int, int, np.ndarray]] = []  # y0, y1, x0, x1, tile

    def keep(self, rows: tuple[int, int], cols: tuple[int, int], value: np.ndarray) -> None:
        """Hold ``value`` (``N×C×h×w`` float32, now owned by the map: the caller must not
        change it) as rows and columns ``[start, end)``, which no other tile covers."""
        (r0, r1), (c0, c1) = rows, cols
        if value.shape != (*self.shape[:2], r1 - r0, c1 - c0) or value.dtype != np.float32:
            raise ValueError(f"tile {rows}×{cols} must be {(*self.shape[:2], r1 - r0, c1 - c0)}")
        if any(r0 < b and a < r1 and c0 < d and c < c1 for a, b, c, d, _ in self._tiles):
            raise ValueError(f"tile {rows}×{cols} overlaps one already kept")
        self._tiles.append((r0, r1, c0, c1, np.ascontiguousarray(value)))

    def _pieces(
        self, rows: tuple[int, int], cols: tuple[int, int]
    ) -> list[tuple[int, int, np.ndarray]]:
        """The kept pieces inside the window: ``(row, column, piece)``, relative to it."""
        (r0, r1), (c0, c1) = rows, cols
        pieces, area = [], 0
        for a, b, c, d, tile in self._tiles:
            y0, y1, x0, x1 = max(a, r0), min(b, r1), max(c, c0), min(d, c1)
            if y0 < y1 and x0 < x1:
                pieces.append((y0 - r0, x0 - c0, tile[..., y0 - a : y1 - a, x0 - c : x1 - c]))
                area += (y1 - y0) * (x1 - x0)
        if area != (r1 - r0) * (c1 - c0):
            raise ValueError(f"window {rows}×{cols} of the map was not all kept")
        return pieces

    def read(
        self, rows: tuple[int, int], cols: tuple[int, int], out: np.ndarray | None = None
    ) -> np.ndarray:
        """Rows and columns ``[start, end)``: copied into ``out`` when given, else a view
        when they lie in one tile (changes to it change the map), else a new array."""
        pieces = self._pieces(rows, cols)
        if out is None and len(pieces) == 1:
            return pieces[0][2]
        if out is None:
            out = np.empty((*self.shape[:2], rows[1] - rows[0], cols[1] - cols[0]), np.float32)
        for y, x, piece in pieces:
            out[..., y : y + piece.shape[-2], x : x + piece.shape[-1]] = piece
        return out

    def write(self, rows: tuple[int, int], cols: tuple[int, int], value: np.ndarray) -> None:
        """Copy ``value`` (``N×C×h×w``) into the kept rows and columns ``[start, end)``."""
        for y, x, piece in self._pieces(rows, cols):
            piece[...] = value[..., y : y + piece.shape[-2], x : x + piece.shape[-1]]


Map = np.ndarray | LayerMap | TileMap  # a layer map: in memory, or in a file


def read(
    source: Map, rows: tuple[int, int], cols: tuple[int, int], out: np.ndarray | None = None
) -> np.ndarray:
    """Rows and columns ``[start, end)`` of a map: copied into ``out`` when given; else a view
    of an in-memory map (changes to it change the map; a :class:`TileMap`'s when they lie in
    one tile), or a new array from a file."""
    if isinstance(source, (LayerMap, TileMap)):
        return source.read(rows, cols, out)
    piece = source[..., rows[0] : rows[1], cols[0] : cols[1]]
    if out is None:
        return piece
    out[...] = piece
    return out


def write(target: Map, rows: tuple[int, int], cols: tuple[int, int], value: np.ndarray) -> None:
    """Write ``value`` at rows and columns ``[start, end)`` of a map (whole blocks of a
    file's, :meth:`LayerMap.write`)."""
    if isinstance(target, (LayerMap, TileMap)):
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

    def new(
        self, shape: tuple[int, ...], block: int = BLOCK_COLUMNS, *, tiles: bool = False
    ) -> Map:
        """A map of ``shape``; a file's is stored in column blocks of ``block`` px; in
        memory, a :class:`TileMap` when ``tiles`` (it is written by :meth:`TileMap.keep`)."""
        size = 4 * math.prod(shape)
        if self._held + size <= self.memory:
            self._held += size
            if tiles:
                return TileMap(shape, block)
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


def block_of(layer_map: Map) -> int:
    """The column block a map was written in; 1 (any columns) for an array."""
    return layer_map.block if isinstance(layer_map, (LayerMap, TileMap)) else 1
