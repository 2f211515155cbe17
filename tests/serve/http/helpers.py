"""Shared pieces of the server tests: loaded models, test images, a gated stylizer."""

from __future__ import annotations

import io
import struct
import threading
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from stylenet.resources import shipped_models_dir

REPO = Path(__file__).resolve().parents[3]
SINGLE = "starry_night_fast"
MULTI = "multi_style"


def have_models() -> bool:
    folder = shipped_models_dir()
    return all((folder / f"{name}.onnx").is_file() for name in (SINGLE, MULTI))


def picture(height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth colourful ``H×W×3`` uint8 photo stand-in."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack([255 * xx / width, 255 * yy / height, 127 + 90 * np.sin(xx / 5)], -1)
    image += rng.normal(0, 6, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def encoded(image: np.ndarray, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=fmt)
    return buffer.getvalue()


def decoded(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"))


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width×height`` pixels (a decompression bomb's header)."""
    data = bytearray(encoded(np.zeros((1, 1, 3), np.uint8)))
    start = 8 + 8  # signature, then the IHDR chunk's length and type
    data[start : start + 8] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12 : start + 13]))
    data[start + 13 : start + 17] = struct.pack(">I", crc)
    return bytes(data)


class GatedStylizer:
    """Wraps a stylizer; each call waits until :attr:`gate` opens (``entered`` is set first)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.styles = inner.styles
        self.facts = inner.facts
        self.entered = threading.Event()
        self.gate = threading.Event()

    def __call__(self, images, style_weights=None):
        self.entered.set()
        if not self.gate.wait(timeout=20):
            raise TimeoutError("gate never opened")
        return self.inner(images, style_weights)


class CrashingStylizer:
    """A backend that fails with an unexpected error."""

    def __init__(self, inner) -> None:
        self.styles = inner.styles
        self.facts = inner.facts

    def __call__(self, images, style_weights=None):
        raise RuntimeError("backend exploded")
