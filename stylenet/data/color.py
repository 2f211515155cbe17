"""Colour-space helpers: luminance-only transfer (Gatys et al. 2016, "Preserving color in
neural artistic style transfer") and style strength.

NumPy, no torch: the ONNX serving path and the PyTorch methods share this one implementation
(torch callers pass ``tensor.numpy()``). Images are float arrays with values in [0, 1] and
three RGB channels on ``channel_axis`` (``-1``: ``…×H×W×3``, the default; ``-3``:
``…×3×H×W``). Every function returns a new array.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

# ITU-R BT.601 luma/chroma (YIQ), as in Gatys et al. (2016).
_RGB_TO_YIQ = np.array(
    [
        [0.299, 0.587, 0.114],
        [0.595716, -0.274453, -0.321263],
        [0.211456, -0.522591, 0.311135],
    ]
)
_YIQ_TO_RGB = np.linalg.inv(_RGB_TO_YIQ)


def _apply_matrix(image: np.ndarray, matrix: np.ndarray, channel_axis: int) -> np.ndarray:
    last = np.moveaxis(np.asarray(image), channel_axis, -1)
    if last.shape[-1] != 3:
        raise ValueError(f"expected 3 colour channels on axis {channel_axis}, got {image.shape}")
    dtype = last.dtype if np.issubdtype(last.dtype, np.floating) else np.float32
    out = last @ matrix.T.astype(dtype)
    return np.moveaxis(out, -1, channel_axis)


def rgb_to_yiq(image: np.ndarray, *, channel_axis: int = -1) -> np.ndarray:
    """RGB → YIQ (Y in [0, 1]; I, Q signed), same layout."""
    return _apply_matrix(image, _RGB_TO_YIQ, channel_axis)


def yiq_to_rgb(image: np.ndarray, *, channel_axis: int = -1) -> np.ndarray:
    """YIQ → RGB (not clipped), same layout."""
    return _apply_matrix(image, _YIQ_TO_RGB, channel_axis)


def luminance(image: np.ndarray, *, channel_axis: int = -1) -> np.ndarray:
    """RGB → BT.601 luma, with a channel axis of length 1."""
    yiq = rgb_to_yiq(image, channel_axis=channel_axis)
    return np.take(yiq, [0], axis=channel_axis)


Moments = tuple[float, float]


def luminance_moments(images: Iterable[np.ndarray]) -> Moments:
    """Mean and standard deviation (``ddof=1``) of the luma of all pixels of ``images`` (RGB
    pieces ``…×3`` of one picture in [0, 1], e.g. its rows in strips), accumulated in float64
    so a picture too large for one array is measured piece by piece."""
    count, total, squares = 0, 0.0, 0.0
    for piece in images:
        y = rgb_to_yiq(np.asarray(piece, dtype=np.float32))[..., 0].astype(np.float64)
        count += y.size
        total += float(y.sum())
        squares += float(np.square(y).sum())
    if count < 2:
        raise ValueError("luminance moments need at least two pixels")
    mean = total / count
    return mean, float(np.sqrt(max(squares - count * mean * mean, 0.0) / (count - 1)))


def transfer_luminance(
    stylized: np.ndarray,
    content: np.ndarray,
    *,
    channel_axis: int = -1,
    stylized_moments: Moments | None = None,
    content_moments: Moments | None = None,
) -> np.ndarray:
    """Keep the content's colours: luminance from ``stylized``, chroma (I, Q) from ``content``.

    The stylized luminance is matched to the content's mean and standard deviation first
    (per image: over the last three axes), so the overall brightness of the photo is kept
    (Gatys et al. 2016, luminance-only transfer). Both arrays must have the same shape; the
    result is clipped to [0, 1]. ``stylized_moments``/``content_moments`` (from
    :func:`luminance_moments`, channels last) give the luma mean and deviation of the whole
    picture when the arrays are only a piece of it.
    """
    if stylized.shape != content.shape:
        raise ValueError(f"shape mismatch: {tuple(stylized.shape)} vs {tuple(content.shape)}")
    styl = np.moveaxis(rgb_to_yiq(stylized, channel_axis=channel_axis), channel_axis, -1)
    cont = np.moveaxis(rgb_to_yiq(content, channel_axis=channel_axis), channel_axis, -1)
    y_s, y_c = styl[..., :1], cont[..., :1]
    dims = (-3, -2, -1)
    mean_s, std_s = stylized_moments or (
        y_s.mean(dims, keepdims=True),
        y_s.std(dims, keepdims=True, ddof=1),
    )
    mean_c, std_c = content_moments or (
        y_c.mean(dims, keepdims=True),
        y_c.std(dims, keepdims=True, ddof=1),
    )
    y = (y_s - np.asarray(mean_s, dtype=y_s.dtype)) / (np.asarray(std_s, dtype=y_s.dtype) + 1e-6)
    y = y * np.asarray(std_c, dtype=y_s.dtype) + np.asarray(mean_c, dtype=y_s.dtype)
    yiq = np.concatenate([y, cont[..., 1:]], axis=-1)
    rgb = np.clip(yiq_to_rgb(yiq), 0.0, 1.0)
    return np.moveaxis(rgb, -1, channel_axis).astype(stylized.dtype, copy=False)


def blend_strength(stylized: np.ndarray, content: np.ndarray, strength: float) -> np.ndarray:
    """Interpolate ``content`` → ``stylized`` by ``strength`` in [0, 1] (1 = fully stylized)."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be in [0, 1], got {strength}")
    if strength == 1.0:
        return np.array(stylized, copy=True)
    if strength == 0.0:
        return np.array(content, copy=True)
    return content + (stylized - content) * np.asarray(strength, dtype=stylized.dtype)
