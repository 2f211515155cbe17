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

Compute is one pass's plus the halos; the price is the disk traffic of the layer maps (for the
half-width network, about 64 bytes per pixel at full resolution per map).
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F

from stylenet.nn.transformer import (
    SIZE_MULTIPLE,
    ConvNormAct,
    ResidualBlock,
    TransformerNet,
    is_instance_norm,
)


def spans(length: int, tile: int) -> list[tuple[int, int]]:
    """Disjoint ``[start, end)`` spans of nearly equal length, each ``<= tile``, covering
    ``length``."""
    count = max(1, math.ceil(length / tile))
    bounds = [round(i * length / count) for i in range(count + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(count) if bounds[i + 1] > bounds[i]]


class MapStore:
    """Float32 ``N×C×H×W`` arrays for the layer maps: memory-mapped files in ``folder`` (a
    temporary folder when ``None``), removed by :meth:`close`."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self._temporary = tempfile.TemporaryDirectory(prefix="stylenet-layers-", dir=folder)
        self.folder = Path(self._temporary.name)
        self._count = 0

    def new(self, shape: tuple[int, ...]) -> np.ndarray:
        self._count += 1
        path = self.folder / f"map_{self._count:03d}.npy"
        return np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=shape)

    def release(self, array: np.ndarray) -> None:
        """Delete ``array``'s file (a map no later layer reads); the disk space returns when
        the last reference to it goes."""
        filename = getattr(array, "filename", None)
        if filename is not None and Path(filename).parent == self.folder:
            Path(filename).unlink(missing_ok=True)

    def close(self) -> None:
        self._temporary.cleanup()


def _tiles(height: int, width: int, tile: int) -> Iterator[tuple[int, int, int, int]]:
    for y0, y1 in spans(height, tile):
        for x0, x1 in spans(width, tile):
            yield y0, y1, x0, x1


def _read(
    source: np.ndarray, y0: int, y1: int, x0: int, x1: int, device: torch.device | None = None
) -> torch.Tensor:
    piece = torch.from_numpy(np.ascontiguousarray(source[..., y0:y1, x0:x1]))
    return piece if device is None else piece.to(device)


def _upsampled_rows(start: int, end: int, length: int, mode: str) -> tuple[int, int]:
    """Rows of the source (``length`` rows) that rows ``[start, end)`` of its ×2 upsampling
    read: one more on each side for bilinear interpolation."""
    margin = 1 if mode == "bilinear" else 0
    return max(0, start // 2 - margin), min(length, (end - 1) // 2 + 1 + margin)


def read_window(
    source: np.ndarray,
    rows: tuple[int, int],
    cols: tuple[int, int],
    upsample: str | None,
    device: torch.device | None = None,
) -> torch.Tensor:
    """Rows ``rows`` and columns ``cols`` (``[start, end)``, possibly beyond the map) of
    ``source`` (``N×C×H×W``), upsampled ×2 first when ``upsample`` is set, reflection-padded
    beyond the map's edges as the layer pads the whole map."""
    height, width = source.shape[-2:]
    if upsample is not None:
        height, width = 2 * height, 2 * width
    (r0, r1), (c0, c1) = rows, cols
    a, b, c, d = max(0, r0), min(height, r1), max(0, c0), min(width, c1)
    if upsample is None:
        core = _read(source, a, b, c, d, device)
    else:
        s0, s1 = _upsampled_rows(a, b, source.shape[-2], upsample)
        t0, t1 = _upsampled_rows(c, d, source.shape[-1], upsample)
        window = _read(source, s0, s1, t0, t1, device)
        big = F.interpolate(window, scale_factor=2.0, mode=upsample)
        core = big[..., a - 2 * s0 : b - 2 * s0, c - 2 * t0 : d - 2 * t0]
    pads = (c - c0, c1 - d, a - r0, r1 - b)
    return F.pad(core, pads, mode="reflect") if any(pads) else core


@torch.no_grad()
def convolve(
    layer: ConvNormAct, source: np.ndarray, out: np.ndarray, tile: int
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``layer``'s [upsampling,] padding and convolution of ``source`` into ``out`` tile by
    tile; returns the output's per-image, per-channel ``(mean, biased variance)`` (``N×C``,
    float32) when the layer instance-normalises, else ``None``."""
    conv = layer.conv
    device = conv.weight.device
    (k, _), (stride, _) = conv.kernel_size, conv.stride
    pad = k // 2
    height, width = out.shape[-2:]
    total = torch.zeros(out.shape[:2], dtype=torch.float64)
    squares = torch.zeros(out.shape[:2], dtype=torch.float64)
    for y0, y1, x0, x1 in _tiles(height, width, tile):
        rows = (y0 * stride - pad, (y1 - 1) * stride - pad + k)
        cols = (x0 * stride - pad, (x1 - 1) * stride - pad + k)
        y = conv(read_window(source, rows, cols, layer.upsample, device)).cpu()
        out[..., y0:y1, x0:x1] = y.numpy()
        wide = y.double()
        total += wide.sum(dim=(2, 3))
        squares += wide.square().sum(dim=(2, 3))
    if layer.norm is None or not is_instance_norm(layer.norm):
        return None
    count = height * width
    mean = total / count
    var = (squares / count - mean.square()).clamp(min=0)
    return mean.float(), var.float()


@torch.no_grad()
def normalize(
    layer: ConvNormAct,
    maps: np.ndarray,
    moments: tuple[torch.Tensor, torch.Tensor] | None,
    style_weights: torch.Tensor | None,
    tile: int,
    residual: np.ndarray | None = None,
) -> None:
    """``layer``'s norm (with the whole map's ``moments`` when it is an instance norm) and
    activation applied to ``maps`` in place, tile by tile; ``residual`` is added after."""
    height, width = maps.shape[-2:]
    device = layer.conv.weight.device
    if moments is not None:
        moments = (moments[0].to(device), moments[1].to(device))
    for y0, y1, x0, x1 in _tiles(height, width, tile):
        x = _read(maps, y0, y1, x0, x1, device)
        if layer.norm is not None:
            if moments is not None:
                x = layer.norm(x, style_weights, moments=moments)
            else:
                x = layer.norm(x, style_weights)
        if layer.activation:
            x = F.relu(x)
        if residual is not None:
            x = x + _read(residual, y0, y1, x0, x1, device)
        maps[..., y0:y1, x0:x1] = x.cpu().numpy()


def _output_shape(layer: ConvNormAct, shape: tuple[int, ...]) -> tuple[int, ...]:
    height, width = shape[-2:]
    if layer.upsample is not None:
        height, width = 2 * height, 2 * width
    (k, _), (stride, _) = layer.conv.kernel_size, layer.conv.stride
    pad = k // 2
    return (
        shape[0],
        layer.conv.out_channels,
        (height + 2 * pad - k) // stride + 1,
        (width + 2 * pad - k) // stride + 1,
    )


def _run(
    layer: ConvNormAct,
    source: np.ndarray,
    store: MapStore,
    style_weights: torch.Tensor | None,
    tile: int,
    residual: np.ndarray | None = None,
) -> np.ndarray:
    out = store.new(_output_shape(layer, source.shape))
    moments = convolve(layer, source, out, tile)
    normalize(layer, out, moments, style_weights, tile, residual)
    return out


OUTPUT_ROWS = 256  # rows of the result handed out at a time


def input_map(image: np.ndarray | torch.Tensor, store: MapStore) -> np.ndarray:
    """``N×3×H×W`` in [0, 255] (uint8 or float) → the network's input map: scaled to [0, 1]
    and reflection-padded at the bottom and right to a multiple of 4, as
    :meth:`TransformerNet.forward` does, written :data:`OUTPUT_ROWS` rows at a time (no
    float copy of the whole picture in memory)."""
    array = image.cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    count, _, height, width = array.shape
    pad_h = (SIZE_MULTIPLE - height % SIZE_MULTIPLE) % SIZE_MULTIPLE
    pad_w = (SIZE_MULTIPLE - width % SIZE_MULTIPLE) % SIZE_MULTIPLE
    if min(height, width) <= SIZE_MULTIPLE:
        raise ValueError(
            f"image must be larger than {SIZE_MULTIPLE} px a side, got {height}×{width}"
        )
    out = store.new((count, 3, height + pad_h, width + pad_w))
    for y in range(0, height, OUTPUT_ROWS):
        rows = torch.from_numpy(np.asarray(array[..., y : y + OUTPUT_ROWS, :], np.float32) / 255.0)
        rows = F.pad(rows, (0, pad_w, 0, 0), mode="reflect") if pad_w else rows
        out[..., y : y + rows.shape[-2], :] = rows.numpy()
    for i in range(pad_h):  # reflection: row height + i mirrors row height - 2 - i
        out[..., height + i, :] = out[..., height - 2 - i, :]
    return out


@torch.no_grad()
def layerwise_rows(
    net: TransformerNet,
    image: np.ndarray | torch.Tensor,
    style_weights: torch.Tensor | None = None,
    *,
    tile: int = 1024,
    folder: str | Path | None = None,
) -> Iterator[tuple[int, torch.Tensor]]:
    """``net(image, style_weights)`` computed layer by layer over tiles of at most ``tile``
    px (of each layer's output), handed out as ``(y, N×3×h×W rows)`` from the top
    (:data:`OUTPUT_ROWS` at a time), in [0, 255] float32: the single pass's result with one
    tile's activations in memory at a time. ``image``: ``N×3×H×W`` in [0, 255], uint8 or
    float (a NumPy array or a tensor). The layer maps, the input's included, go to
    memory-mapped files in a temporary folder (under ``folder`` when given), removed when the
    rows are done. Tiles run on the network's device (tested on the CPU only)."""
    if tile < 8:
        raise ValueError(f"tile must be at least 8 px, got {tile}")
    if len(image.shape) != 4 or image.shape[1] != 3:
        raise ValueError(f"image must be N×3×H×W, got {tuple(image.shape)}")
    net = net.eval()
    height, width = int(image.shape[-2]), int(image.shape[-1])
    device = next(net.parameters()).device
    weights = None if style_weights is None else style_weights.float().to(device)
    store = MapStore(folder)
    try:
        source = input_map(image, store)
        for layer in cast(list[ConvNormAct], list(net.encoder)):
            source, previous = _run(layer, source, store, weights, tile), source
            store.release(previous)
        for block in cast(list[ResidualBlock], list(net.residuals)):
            first = _run(block.first, source, store, weights, tile)
            source, previous = _run(block.second, first, store, weights, tile, source), source
            store.release(first)
            store.release(previous)
        for layer in cast(list[ConvNormAct], list(net.decoder)):
            source, previous = _run(layer, source, store, weights, tile), source
            store.release(previous)
        for y in range(0, height, OUTPUT_ROWS):
            rows = _read(source, y, min(height, y + OUTPUT_ROWS), 0, width)
            yield y, 127.5 * (torch.tanh(rows) + 1.0)
    finally:
        store.close()


def stylize_layerwise(
    net: TransformerNet,
    image: np.ndarray | torch.Tensor,
    style_weights: torch.Tensor | None = None,
    *,
    tile: int = 1024,
    folder: str | Path | None = None,
) -> torch.Tensor:
    """:func:`layerwise_rows` gathered into one ``N×3×H×W`` tensor in [0, 255]."""
    rows = [
        piece for _, piece in layerwise_rows(net, image, style_weights, tile=tile, folder=folder)
    ]
    return torch.cat(rows, dim=2)
