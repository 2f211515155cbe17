"""Colour-space helpers: luminance-only transfer (Gatys et al. 2016, "Preserving color in
neural artistic style transfer") and style strength.

All functions take ``…×3×H×W`` RGB tensors with values in [0, 1] and return new tensors.
"""

from __future__ import annotations

import torch

# ITU-R BT.601 luma/chroma (YIQ), as in Gatys et al. (2016).
_RGB_TO_YIQ = torch.tensor(
    [
        [0.299, 0.587, 0.114],
        [0.595716, -0.274453, -0.321263],
        [0.211456, -0.522591, 0.311135],
    ]
)
_YIQ_TO_RGB = torch.linalg.inv(_RGB_TO_YIQ)


def _apply_matrix(image: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    matrix = matrix.to(device=image.device, dtype=image.dtype)
    return torch.einsum("ij,...jhw->...ihw", matrix, image)


def rgb_to_yiq(image: torch.Tensor) -> torch.Tensor:
    """``…×3×H×W`` RGB → YIQ (Y in [0, 1]; I, Q signed)."""
    return _apply_matrix(image, _RGB_TO_YIQ)


def yiq_to_rgb(image: torch.Tensor) -> torch.Tensor:
    """``…×3×H×W`` YIQ → RGB (not clamped)."""
    return _apply_matrix(image, _YIQ_TO_RGB)


def luminance(image: torch.Tensor) -> torch.Tensor:
    """``…×3×H×W`` RGB → ``…×1×H×W`` BT.601 luma."""
    return rgb_to_yiq(image)[..., :1, :, :]


def transfer_luminance(stylized: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Keep the content's colours: luminance from ``stylized``, chroma (I, Q) from ``content``.

    The stylized luminance is matched to the content's mean and standard deviation first, so
    the overall brightness of the photo is kept (Gatys et al. 2016, luminance-only transfer).
    Both tensors must have the same shape; the result is clamped to [0, 1].
    """
    if stylized.shape != content.shape:
        raise ValueError(f"shape mismatch: {tuple(stylized.shape)} vs {tuple(content.shape)}")
    styl_yiq = rgb_to_yiq(stylized)
    cont_yiq = rgb_to_yiq(content)
    y_s = styl_yiq[..., :1, :, :]
    y_c = cont_yiq[..., :1, :, :]
    dims = (-3, -2, -1)
    y = (y_s - y_s.mean(dims, keepdim=True)) / (y_s.std(dims, keepdim=True) + 1e-6)
    y = y * y_c.std(dims, keepdim=True) + y_c.mean(dims, keepdim=True)
    return yiq_to_rgb(torch.cat([y, cont_yiq[..., 1:, :, :]], dim=-3)).clamp(0, 1)


def blend_strength(stylized: torch.Tensor, content: torch.Tensor, strength: float) -> torch.Tensor:
    """Interpolate ``content`` → ``stylized`` by ``strength`` in [0, 1] (1 = fully stylized)."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be in [0, 1], got {strength}")
    return torch.lerp(content, stylized, strength)
