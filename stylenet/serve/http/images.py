"""Request bodies → images and images → response bytes, with the body and pixel limits.

The body is counted while it is read (413 past ``max_body_bytes``, no more is read) and the
image size comes from its header before any pixel is decoded, so a decompression bomb is
refused without allocating its pixels.
"""

from __future__ import annotations

import io
from collections.abc import AsyncGenerator, AsyncIterator

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from stylenet.serve.http.errors import bad_request, too_large
from stylenet.serve.http.settings import FORMATS

READABLE = "JPEG, PNG, WebP, TIFF, BMP"


async def limited(chunks: AsyncIterator[bytes], limit: int) -> AsyncGenerator[bytes, None]:
    """``chunks`` as they arrive; 413 as soon as more than ``limit`` bytes arrived (nothing
    more is read)."""
    total = 0
    async for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise too_large(body_limit_message(limit))
        yield chunk


def body_limit_message(limit: int) -> str:
    return (
        f"request body is larger than {limit / 1e6:g} MB; send a smaller or more compressed image"
    )


def image_size(data: bytes, what: str = "image") -> tuple[int, int]:
    """``(width, height)`` from the image header (no decoding); 400 if it is not an image.
    ``what``: the multipart field named in the messages (``image`` or ``painting``)."""
    if not data:
        raise bad_request(f"no {what}: send it as multipart field {what!r} or as the request body")
    try:
        with Image.open(io.BytesIO(data)) as img:
            return int(img.width), int(img.height)
    except Image.DecompressionBombError as error:
        raise too_large(
            f"{what} header claims hundreds of megapixels (a decompression bomb?); "
            f"send a smaller {what}"
        ) from error
    except UnidentifiedImageError as error:
        raise bad_request(f"{what}: not a readable image (supported: {READABLE})") from error
    except (OSError, SyntaxError, ValueError) as error:
        raise bad_request(f"corrupt {what} header ({error}); send a valid image") from error


def check_pixels(width: int, height: int, max_pixels: int, what: str = "image") -> None:
    if width * height > max_pixels:
        raise too_large(
            f"{what} is {width}×{height} = {width * height / 1e6:.1f} megapixels; the limit is "
            f"{max_pixels / 1e6:g}; downscale it (or ask for a smaller size=)"
        )


def decode_image(data: bytes, max_pixels: int) -> np.ndarray:
    """Image bytes → upright ``H×W×3`` uint8 RGB (EXIF orientation; alpha on white).

    The pixel limit is checked on the header first (413), then the pixels are decoded.
    """
    width, height = image_size(data)
    check_pixels(width, height, max_pixels)
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            return np.asarray(_to_rgb(img), dtype=np.uint8).copy()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise bad_request(f"corrupt or truncated image ({error}); send a valid image") from error


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    if img.mode in ("RGBA", "LA", "PA", "P", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if img.mode.startswith("I") or img.mode == "F":
        values = np.asarray(img, dtype=np.float64)
        top = values.max(initial=0)
        scale = 255.0 / (1.0 if top <= 1.0 else 255.0 if top <= 255 else 65535.0)
        grey = np.clip(np.rint(values * scale), 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    return img.convert("RGB")


def resize_longest(image: np.ndarray, side: int) -> np.ndarray:
    """``H×W×3`` uint8 resized (bicubic, antialiased) so that its longest side is ``side``."""
    height, width = image.shape[:2]
    factor = side / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    if size == (width, height):
        return image
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BICUBIC))


def encode_image(image: np.ndarray, fmt: str, quality: int) -> bytes:
    """``H×W×3`` uint8 → ``jpeg`` / ``png`` / ``webp`` bytes."""
    buffer = io.BytesIO()
    options = {"quality": quality} if fmt in ("jpeg", "webp") else {}
    Image.fromarray(image).save(buffer, format=FORMATS[fmt], **options)
    return buffer.getvalue()
