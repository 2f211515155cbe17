"""Read and write image files as NumPy arrays (Pillow + NumPy, no torch).

Arrays are ``H×W×3`` uint8 RGB. The ONNX serving path uses this module directly; the
PyTorch conversions for training and the optimisation methods live in
:mod:`stylenet.data.images`. Every failure raises :class:`~stylenet.errors.ImageError`.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from stylenet.data.atomic import atomic_path
from stylenet.errors import ImageError
from stylenet.options import MAX_PIXELS

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif")
SAVE_FORMATS = {
    ".gif": "GIF",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
}
# Pillow warns above its limit and refuses above twice it; ours is the one limit that counts.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
_HIGH_BIT_DEPTH_MODES = {"I;16": 65535.0, "I;16B": 65535.0, "I;16L": 65535.0, "I": 65535.0}


def is_image_file(path: str | os.PathLike[str]) -> bool:
    """True if ``path``'s extension is one of the readable image formats."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def open_image(path: str | os.PathLike[str]) -> Image.Image:
    """Open an image file as an upright 8-bit RGB PIL image.

    Honours the EXIF orientation tag and converts grayscale, RGBA/LA (composited on white),
    palette, CMYK and 16-bit images to RGB.
    """
    file = Path(path)
    if not file.exists():
        raise ImageError(f"image not found: {file} (check the path)")
    if file.is_dir():
        raise ImageError(f"expected an image file but {file} is a folder")
    if file.stat().st_size == 0:
        raise ImageError(f"image file is empty: {file} (re-export or re-download it)")
    try:
        with warnings.catch_warnings():
            # above MAX_PIXELS check_pixels refuses the image in its own words
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(file) as img:
                check_pixels(img.width, img.height, file)
                img.load()  # the first frame of an animated GIF/WebP/TIFF
                return to_rgb(ImageOps.exif_transpose(img))
    except ImageError:
        raise
    except UnidentifiedImageError as error:
        raise ImageError(
            f"not a readable image: {file} (supported: JPEG, PNG, WebP, TIFF, BMP, GIF)"
        ) from error
    except Image.DecompressionBombError as error:
        pixels = re.search(r"\((\d+) pixels\)", str(error))
        size = f"{int(pixels.group(1)) // 1_000_000} megapixels" if pixels else "larger"
        raise _too_large(file, size) from error
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError(f"corrupt or truncated image: {file} ({error})") from error


def check_pixels(width: int, height: int, what: object = "image") -> None:
    """Raise :class:`ImageError` when ``width × height`` exceeds :data:`MAX_PIXELS`."""
    if width * height > MAX_PIXELS:
        raise _too_large(what, f"{width}×{height}")


def _too_large(what: object, size: str) -> ImageError:
    return ImageError(
        f"image is too large: {what} is {size}, over the pixel limit of "
        f"{MAX_PIXELS // 1_000_000} megapixels; downscale it first"
    )


def to_rgb(img: Image.Image) -> Image.Image:
    """Convert any PIL mode to 8-bit RGB (alpha composited on white, 16-bit rescaled)."""
    if img.mode == "RGB":
        return img
    if img.mode in _HIGH_BIT_DEPTH_MODES:
        scale = _HIGH_BIT_DEPTH_MODES[img.mode]
        values = np.asarray(img, dtype=np.float64)
        if img.mode == "I" and values.max(initial=0) <= 255:
            scale = 255.0
        gray = np.clip(np.rint(values / scale * 255.0), 0, 255).astype(np.uint8)
        return Image.fromarray(gray, mode="L").convert("RGB")
    if img.mode == "F":
        values = np.asarray(img, dtype=np.float64)
        scale = 1.0 if values.max(initial=0) <= 1.0 else 255.0
        gray = np.clip(np.rint(values / scale * 255.0), 0, 255).astype(np.uint8)
        return Image.fromarray(gray, mode="L").convert("RGB")
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")


def target_size(
    height: int,
    width: int,
    max_side: int | None = None,
    size: tuple[int, int] | None = None,
    scale: float | None = None,
) -> tuple[int, int]:
    """The ``(H, W)`` a resize produces (exactly one option: longest side, size or factor)."""
    given = [option is not None for option in (max_side, size, scale)]
    if sum(given) != 1:
        raise ImageError("resize takes exactly one of max_side, size or scale")
    if size is not None:
        new_h, new_w = int(size[0]), int(size[1])
    elif max_side is not None:
        if max_side < 1:
            raise ImageError(f"max_side must be a positive number of pixels, got {max_side}")
        factor = max_side / max(height, width)
        new_h, new_w = round(height * factor), round(width * factor)
    else:
        if scale is None or scale <= 0:
            raise ImageError(f"scale must be > 0, got {scale}")
        new_h, new_w = round(height * scale), round(width * scale)
    if new_h < 1 or new_w < 1:
        raise ImageError(f"resizing {height}×{width} would give an empty {new_h}×{new_w} image")
    return new_h, new_w


def check_rgb_array(image: np.ndarray, what: str = "image") -> None:
    """Raise :class:`ImageError` unless ``image`` is an ``H×W×3`` uint8 array."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", type(image).__name__)
        raise ImageError(f"expected an H×W×3 RGB {what}, got {shape}")
    if image.dtype != np.uint8:
        raise ImageError(f"expected a uint8 {what} (values 0-255), got {image.dtype}")


def require_min_side(height: int, width: int, min_side: int, what: str = "image") -> None:
    """Raise :class:`ImageError` if the shorter side is below ``min_side`` pixels."""
    if min(height, width) < min_side:
        raise ImageError(
            f"{what} is too small: {height}×{width}; the shorter side must be at least "
            f"{min_side} px (use a larger image or a larger size=)"
        )


def read_array(path: str | os.PathLike[str], max_side: int | None = None) -> np.ndarray:
    """Read an image file → ``H×W×3`` uint8 RGB, optionally resized to ``max_side``."""
    img = open_image(path)
    if max_side is not None:
        return resize_array(np.asarray(img), max_side=max_side)
    return np.asarray(img).copy()


def resize_array(
    image: np.ndarray, *, max_side: int | None = None, size: tuple[int, int] | None = None
) -> np.ndarray:
    """Antialiased bicubic resize of an ``H×W×3`` uint8 array to ``max_side`` or ``(H, W)``."""
    check_rgb_array(image)
    height, width = image.shape[:2]
    new_h, new_w = target_size(height, width, max_side=max_side, size=size)
    if (new_h, new_w) == (height, width):
        return image.copy()
    img = Image.fromarray(image, mode="RGB").resize((new_w, new_h), Image.Resampling.BICUBIC)
    return np.asarray(img).copy()


def array_to_pil(image: np.ndarray) -> Image.Image:
    """``H×W×3`` uint8 RGB array → PIL image."""
    check_rgb_array(image)
    return Image.fromarray(np.ascontiguousarray(image), mode="RGB")


def write_image(
    image: np.ndarray | Image.Image, path: str | os.PathLike[str], quality: int = 95
) -> Path:
    """Write an ``H×W×3`` uint8 RGB array (or PIL image) atomically; the format comes from the
    extension. Returns the path."""
    target = Path(path)
    file_format = SAVE_FORMATS.get(target.suffix.lower())
    if file_format is None:
        raise ImageError(
            f"cannot tell the image format from {target.name!r}; "
            f"use one of {', '.join(sorted(SAVE_FORMATS))}"
        )
    img = image if isinstance(image, Image.Image) else array_to_pil(image)
    options = {"quality": quality} if file_format in ("JPEG", "WEBP") else {}
    try:
        with atomic_path(target) as tmp:
            img.save(tmp, format=file_format, **options)
    except OSError as error:
        raise ImageError(f"cannot write {target}: {error.strerror or error}") from error
    return target


def list_images(root: str | os.PathLike[str], recursive: bool = True) -> list[Path]:
    """All image files under ``root`` (sorted), by extension."""
    folder = Path(root)
    if not folder.is_dir():
        raise ImageError(f"image folder not found: {folder}")
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in folder.glob(pattern) if p.is_file() and is_image_file(p))
