"""Calibration images for INT8 static quantization: photos from a folder, or synthetic ones.

The reader feeds ONNX Runtime's calibrator one ``1×3×S×S`` image (0–255) at a time; for
multi-style models each image is paired with a one-hot ``style_weights`` row, cycling through
the styles so that every style's activation ranges are observed.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from onnxruntime.quantization import CalibrationDataReader

from stylenet.contract import IMAGE_INPUT, WEIGHTS_INPUT
from stylenet.data.images import is_image_file, read_image
from stylenet.errors import ConfigError

CALIBRATION_SIDE = 256


def photo_files(folder: str | os.PathLike[str], limit: int) -> list[Path]:
    """Up to ``limit`` image files under ``folder`` (recursive, sorted for reproducibility)."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise ConfigError(f"calibration folder not found: {root} (give a folder of photos)")
    files = sorted(p for p in root.rglob("*") if p.is_file() and is_image_file(p))
    if not files:
        raise ConfigError(f"no images in calibration folder {root}; add .jpg/.png photos")
    return files[:limit]


def square_crop(image: torch.Tensor, side: int = CALIBRATION_SIDE) -> torch.Tensor:
    """``3×H×W`` in [0, 1] → centre-cropped, resized ``3×side×side`` in [0, 255]."""
    height, width = image.shape[-2:]
    crop = min(height, width)
    top, left = (height - crop) // 2, (width - crop) // 2
    square = image[:, top : top + crop, left : left + crop].unsqueeze(0)
    resized = F.interpolate(square, size=(side, side), mode="bilinear", antialias=True)
    return resized[0].clamp(0, 1) * 255.0


def synthetic_photo(seed: int, side: int = CALIBRATION_SIDE) -> torch.Tensor:
    """A photo-like ``3×side×side`` image in [0, 255]: smooth colour fields, edges and grain."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, 6, 6, generator=generator)
    smooth = F.interpolate(coarse, size=(side, side), mode="bicubic", align_corners=False)
    blocks = torch.rand(1, 3, 12, 12, generator=generator)
    edges = F.interpolate(blocks, size=(side, side), mode="nearest")
    grain = torch.randn(1, 3, side, side, generator=generator) * 0.03
    image = 0.65 * smooth + 0.35 * edges + grain
    return image[0].clamp(0, 1) * 255.0


class ImageCalibrationReader(CalibrationDataReader):
    """Calibration inputs: ``folder``'s photos (centre-cropped squares) or synthetic images."""

    def __init__(
        self,
        folder: str | os.PathLike[str] | None,
        count: int,
        num_styles: int = 1,
        multi_style: bool = False,
        side: int = CALIBRATION_SIDE,
    ) -> None:
        if count < 1:
            raise ConfigError(f"num_calibration must be >= 1, got {count}")
        self.files = None if folder is None else photo_files(folder, count)
        self.count = count if self.files is None else len(self.files)
        self.num_styles = num_styles
        self.multi_style = multi_style
        self.side = side
        self.index = 0

    def __len__(self) -> int:
        return self.count

    def image(self, index: int) -> torch.Tensor:
        """The ``index``-th calibration image, ``3×side×side`` in [0, 255]."""
        if self.files is None:
            return synthetic_photo(index, self.side)
        return square_crop(read_image(self.files[index]), self.side)

    def get_next(self) -> dict[str, np.ndarray] | None:
        """The next ``{"image": 1×3×S×S[, "style_weights": 1×S]}`` feed, ``None`` when done."""
        if self.index >= self.count:
            return None
        feed = {IMAGE_INPUT: self.image(self.index).unsqueeze(0).numpy().astype(np.float32)}
        if self.multi_style:
            weights = np.zeros((1, self.num_styles), dtype=np.float32)
            weights[0, self.index % self.num_styles] = 1.0
            feed[WEIGHTS_INPUT] = weights
        self.index += 1
        return feed

    def rewind(self) -> None:
        """Start again from the first image."""
        self.index = 0
