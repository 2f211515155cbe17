"""Image tensors for training and the optimisation methods: read, convert, resize, write.

Tensors are ``3×H×W`` float32, RGB, values in [0, 1] unless a function says otherwise.
Files are read and written by :mod:`stylenet.data.image_files` (NumPy, no torch; the
serving path uses it directly); its names are re-exported here. Every failure raises
:class:`~stylenet.errors.ImageError` with a one-line message.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from stylenet.data.image_files import (
    IMAGE_SUFFIXES,
    MAX_PIXELS,
    SAVE_FORMATS,
    check_pixels,
    is_image_file,
    list_images,
    open_image,
    require_min_side,
    target_size,
    to_rgb,
    write_image,
)
from stylenet.errors import ImageError

__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_PIXELS",
    "SAVE_FORMATS",
    "check_pixels",
    "is_image_file",
    "list_images",
    "open_image",
    "pil_to_tensor",
    "read_image",
    "require_min_size",
    "resize",
    "save_image",
    "target_size",
    "tensor_to_pil",
    "to_rgb",
]


def pil_to_tensor(img: Image.Image) -> torch.Tensor:
    """PIL image (any mode) → ``3×H×W`` float32 tensor in [0, 1]."""
    array = np.asarray(to_rgb(img), dtype=np.uint8)
    return torch.from_numpy(array.copy()).permute(2, 0, 1).float().div_(255.0)


def tensor_to_pil(image: torch.Tensor) -> Image.Image:
    """``3×H×W`` (or ``1×3×H×W``) tensor in [0, 1] → 8-bit RGB PIL image (values clipped)."""
    if image.dim() == 4 and image.shape[0] == 1:
        image = image[0]
    if image.dim() != 3 or image.shape[0] != 3:
        raise ImageError(f"expected a 3×H×W image tensor, got shape {tuple(image.shape)}")
    array = image.detach().float().clamp(0, 1).mul(255).round().byte().permute(1, 2, 0)
    return Image.fromarray(array.cpu().numpy(), mode="RGB")


def read_image(
    path: str | os.PathLike[str],
    max_side: int | None = None,
    size: tuple[int, int] | None = None,
    scale: float | None = None,
) -> torch.Tensor:
    """Read an image file → ``3×H×W`` float32 RGB tensor in [0, 1], optionally resized."""
    image = pil_to_tensor(open_image(path))
    if max_side is None and size is None and scale is None:
        return image
    return resize(image, max_side=max_side, size=size, scale=scale)


def resize(
    image: torch.Tensor,
    max_side: int | None = None,
    size: tuple[int, int] | None = None,
    scale: float | None = None,
) -> torch.Tensor:
    """Antialiased bicubic resize of a ``3×H×W`` or ``N×3×H×W`` tensor.

    Exactly one of ``max_side`` (longest side), ``size`` (``(H, W)``) or ``scale`` (factor).
    Values are clamped to [0, 1] afterwards (bicubic overshoots at edges).
    """
    height, width = image.shape[-2:]
    new_size = target_size(height, width, max_side=max_side, size=size, scale=scale)
    if new_size == (height, width):
        return image
    batch = image if image.dim() == 4 else image.unsqueeze(0)
    out = F.interpolate(batch, size=new_size, mode="bicubic", antialias=True, align_corners=False)
    out = out.clamp(0, 1)
    return out if image.dim() == 4 else out[0]


def require_min_size(image: torch.Tensor, min_side: int, what: str = "image") -> None:
    """Raise :class:`ImageError` if the image's shorter side is below ``min_side`` pixels."""
    height, width = image.shape[-2:]
    require_min_side(int(height), int(width), min_side, what)


def save_image(
    image: torch.Tensor | Image.Image,
    path: str | os.PathLike[str],
    quality: int = 95,
) -> Path:
    """Write a ``3×H×W`` tensor in [0, 1] (or a PIL image) atomically; the format comes from
    the extension. Returns the path."""
    img = image if isinstance(image, Image.Image) else tensor_to_pil(image)
    return write_image(img, path, quality=quality)
