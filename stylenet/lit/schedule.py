"""Training schedules over the optimiser steps: the learning-rate curve and coarse-to-fine
photo sizes.

- ``lr="cosine"``: the learning rate follows a half cosine from its peak to ``lr_min`` × peak
  over ``total_steps`` (Loshchilov and Hutter, "SGDR", ICLR 2017, without restarts).
- ``coarse_fraction``: the first share of the steps trains on photos downscaled by
  ``coarse_scale`` (fewer pixels per step, so more steps in the same time), the rest at full
  size, as coarse-to-fine training of feed-forward style networks does (Ulyanov et al.,
  "Texture Networks", ICML 2016, train at several scales; here one switch).

Both depend only on the step, so a resumed run follows the same schedule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

LR_SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class TrainingSchedule:
    """What changes with the step.

    Args:
        total_steps: the run's length in optimiser steps (>= 1).
        lr: ``constant`` or ``cosine``.
        lr_min: the cosine's final learning rate as a fraction of the peak, in [0, 1].
        coarse_fraction: share of the steps, in [0, 1), trained on downscaled photos.
        coarse_scale: the downscaling factor of those steps, in (0, 1].
    """

    total_steps: int
    lr: str = "constant"
    lr_min: float = 0.0
    coarse_fraction: float = 0.0
    coarse_scale: float = 0.5

    def __post_init__(self) -> None:
        if self.total_steps < 1:
            raise ValueError(f"total_steps must be >= 1, got {self.total_steps}")
        if self.lr not in LR_SCHEDULES:
            raise ValueError(
                f"schedule.lr must be one of {', '.join(LR_SCHEDULES)}, got {self.lr!r}"
            )
        if not 0.0 <= self.lr_min <= 1.0:
            raise ValueError(f"schedule.lr_min must be in [0, 1], got {self.lr_min}")
        if not 0.0 <= self.coarse_fraction < 1.0:
            raise ValueError(
                f"schedule.coarse_fraction must be in [0, 1), got {self.coarse_fraction}"
            )
        if not 0.0 < self.coarse_scale <= 1.0:
            raise ValueError(f"schedule.coarse_scale must be in (0, 1], got {self.coarse_scale}")

    @property
    def coarse_steps(self) -> int:
        """Steps ``0 … coarse_steps - 1`` train on downscaled photos."""
        return round(self.coarse_fraction * self.total_steps)

    def lr_factor(self, step: int) -> float:
        """The learning rate of ``step`` as a fraction of the peak."""
        if self.lr == "constant":
            return 1.0
        progress = min(max(step, 0), self.total_steps) / self.total_steps
        return self.lr_min + (1.0 - self.lr_min) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def photo_scale(self, step: int) -> float:
        """The factor ``step``'s photos are resized by (1.0: as loaded)."""
        return self.coarse_scale if step < self.coarse_steps else 1.0


def resize_photos(photos: torch.Tensor, scale: float) -> torch.Tensor:
    """``N×3×H×W`` photos resized by ``scale`` (antialiased bilinear; a new tensor unless
    ``scale`` is 1)."""
    if scale == 1.0:
        return photos
    size = (max(1, round(photos.shape[-2] * scale)), max(1, round(photos.shape[-1] * scale)))
    return F.interpolate(photos, size=size, mode="bilinear", antialias=True, align_corners=False)
