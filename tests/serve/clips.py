"""Synthetic clips and a tiny stylizer for the video, temporal and live-loop tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from stylenet.nn.checkpoint import ModelInfo
from stylenet.nn.transformer import TransformerNet
from stylenet.serve.torch_backend import TorchStylizer
from tests.helpers.images import synthetic_rgb

OBJECT_BGR = (40, 40, 230)


def tiny_stylizer(styles: list[str] | None = None) -> TorchStylizer:
    net = TransformerNet(width=0.125, num_res_blocks=1)
    return TorchStylizer(net, ModelInfo(styles or ["x"]), "cpu")


def static_clip(
    frames: int = 10, height: int = 48, width: int = 64, noise: float = 4.0, seed: int = 0
) -> list[np.ndarray]:
    """A static camera: one BGR picture with fresh sensor noise per frame (uint8)."""
    rng = np.random.default_rng(seed)
    base = synthetic_rgb(height, width, seed=seed)[..., ::-1].astype(np.float32)
    return [
        np.clip(base + rng.normal(0, noise, base.shape), 0, 255).astype(np.uint8)
        for _ in range(frames)
    ]


def moving_square_clip(
    frames: int = 10, height: int = 72, width: int = 128, step: int = 6, side: int = 20
) -> tuple[list[np.ndarray], list[int], np.ndarray]:
    """A red square moving right by ``step`` px per frame over a noisy static background.

    Returns the BGR frames, the square's left edge per frame, and the clean background.
    """
    rng = np.random.default_rng(1)
    background = np.zeros((height, width, 3), np.float32)
    background[:] = (150, 120, 90)
    background += 30 * np.sin(np.arange(width) / 7.0)[None, :, None]
    clip, lefts = [], []
    for t in range(frames):
        frame = background.copy()
        left = 8 + step * t
        frame[24 : 24 + side, left : left + side] = OBJECT_BGR
        frame += rng.normal(0, 3, frame.shape)
        clip.append(np.clip(frame, 0, 255).astype(np.uint8))
        lefts.append(left)
    return clip, lefts, background


def write_clip(path: Path, frames: list[np.ndarray], fps: float = 12.0) -> Path:
    """Write BGR frames with OpenCV (mp4v for .mp4/.mov, MJPG for .avi)."""
    fourcc = cv2.VideoWriter_fourcc(*("MJPG" if path.suffix == ".avi" else "mp4v"))
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), fourcc, fps, (width, height))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def read_clip(path: Path) -> tuple[list[np.ndarray], float]:
    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames, fps
