"""A soft box constraint that keeps optimised pixels in their valid range.

L-BFGS on the pixels runs unconstrained (projecting between its steps corrupts its curvature
pairs), so pixels drift outside [0, 1] and the clamped result is worse than the loss the
optimiser saw. A quadratic penalty on the excess keeps them in range while leaving the
objective smooth (a bounded-range prior in the spirit of Mahendran and Vedaldi 2015).
"""

from __future__ import annotations

import torch
from torch import nn


def range_penalty(image: torch.Tensor, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
    """Per-image sum of squared distances of ``N×C×H×W`` pixels outside ``[low, high]`` → ``N``
    (0 for an image inside the range)."""
    excess = (image - high).clamp(min=0) + (low - image).clamp(min=0)
    return excess.pow(2).sum(dim=tuple(range(1, image.dim())))


class RangePenalty(nn.Module):
    """Module form of :func:`range_penalty`."""

    def __init__(self, low: float = 0.0, high: float = 1.0) -> None:
        super().__init__()
        self.low, self.high = float(low), float(high)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return range_penalty(image, self.low, self.high)
