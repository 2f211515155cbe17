"""Total-variation regularisers (Rudin et al. 1992; the TV^β form of Mahendran & Vedaldi 2015)."""

from __future__ import annotations

import torch
from torch import nn


def total_variation(image: torch.Tensor, beta: float | None = None) -> torch.Tensor:
    """Per-image total variation of ``N×C×H×W`` → ``N``.

    ``beta=None``: anisotropic L1 form, mean of ``|∂x| + |∂y|``.
    ``beta=β``: the TV^β form, mean of ``((∂x)² + (∂y)²)^(β/2)`` (β = 2 is smooth; β < 2 keeps
    edges). Means (not sums) keep the value independent of image size.
    """
    dx = image[..., :, 1:] - image[..., :, :-1]
    dy = image[..., 1:, :] - image[..., :-1, :]
    if beta is None:
        return dx.abs().mean(dim=(1, 2, 3)) + dy.abs().mean(dim=(1, 2, 3))
    squared = dx[..., :-1, :] ** 2 + dy[..., :, :-1] ** 2
    # the small epsilon keeps the gradient finite where the image is flat and β < 2
    return (squared + 1e-8).pow(beta / 2).mean(dim=(1, 2, 3))


class TotalVariation(nn.Module):
    """Module form of :func:`total_variation`."""

    def __init__(self, beta: float | None = None) -> None:
        super().__init__()
        self.beta = beta

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return total_variation(image, self.beta)
