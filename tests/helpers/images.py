"""Synthetic pictures: tests make their own images."""

from __future__ import annotations

import numpy as np


def synthetic_rgb(height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth, colourful ``H×W×3`` uint8 picture (gradients + a square + noise)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    red = 255 * xx / max(width - 1, 1)
    green = 255 * yy / max(height - 1, 1)
    blue = 127 + 100 * np.sin(xx / 5.0) * np.cos(yy / 7.0)
    image = np.stack([red, green, blue], axis=-1)
    image[height // 4 : height // 2, width // 4 : width // 2] = (240, 30, 60)
    image += rng.normal(0, 8, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)
