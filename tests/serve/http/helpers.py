"""Shared pieces of the server tests: loaded models, test images, a gated stylizer."""

from __future__ import annotations

import io
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import httpx
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


HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """``python -m stylenet.cli.serve`` on a free port of 127.0.0.1, ready when started."""

    def __init__(self, cwd: Path, *overrides: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", **(env or {})}
        env.pop("STYLENET_API_KEY", None)
        command = [sys.executable, "-m", "stylenet.cli.serve", f"host={HOST}"]
        command += [f"port={self.port}"]
        if not any(o.startswith("intra_op_threads=") for o in overrides):
            command.append("intra_op_threads=1")  # the test machines' cores are shared
        self.log = cwd / f"server_{self.port}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [*command, *(overrides or (f"models=[{SINGLE}]",))],
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"server not ready in 90 s:\n{self.log.read_text()}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()
