"""Instance-norm statistics shared across the pieces of one image.

Thumbnail instance normalisation (Chen et al., "Towards Ultra-Resolution Neural Style Transfer
via Thumbnail Instance Normalization", URST, AAAI 2022): the per-channel means and variances
that every instance-norm layer of a network would compute on the whole image are taken once
(from a thumbnail, or accumulated over tiles) and every tile is then normalised with them, so
tiles no longer differ in tone.

A network's statistics are *packed* into one ``N×K`` float32 tensor: for each instance-norm
layer in forward order its ``C`` channel means, then its ``C`` (biased) variances, so
``K = 2·ΣC``. A NaN entry means "not given": that layer/channel uses the input's own
statistic, so an all-NaN row is plain instance norm.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

Moments = tuple[torch.Tensor, torch.Tensor]  # (mean, biased variance), each N×C


def channel_moments(x: torch.Tensor) -> Moments:
    """Per-image, per-channel mean and biased variance of ``N×C×H×W`` (as instance norm uses)."""
    mean = x.mean(dim=(2, 3))
    var = (x - mean[:, :, None, None]).square().mean(dim=(2, 3))
    return mean, var


def normalize_with(x: torch.Tensor, moments: Moments, eps: float) -> torch.Tensor:
    """``(x - mean) / sqrt(var + eps)`` with ``N×C`` (or ``1×C``) moments, ``x``: ``N×C×H×W``."""
    mean, var = moments
    return (x - mean[:, :, None, None]) * torch.rsqrt(var[:, :, None, None] + eps)


class StatisticsPass:
    """Carries statistics through one forward pass of a network.

    ``given``: packed ``N×K`` (or ``1×K``) statistics to normalise with (NaN = own), or
    ``None`` for plain instance norm. Every instance-norm layer calls :meth:`moments_for`, which
    records the layer input's own moments (``observed``) and returns the moments to use.
    """

    def __init__(self, given: torch.Tensor | None = None) -> None:
        self.given = given
        self.offset = 0
        self.observed: list[Moments] = []

    def moments_for(self, x: torch.Tensor) -> Moments:
        own = channel_moments(x)
        self.observed.append(own)
        channels = x.shape[1]
        if self.given is None:
            return own
        start = self.offset
        self.offset += 2 * channels
        mean = self.given[:, start : start + channels].to(x.dtype)
        var = self.given[:, start + channels : start + 2 * channels].to(x.dtype)
        return (
            torch.where(torch.isnan(mean), own[0], mean),
            torch.where(torch.isnan(var), own[1], var),
        )

    def packed(self) -> torch.Tensor:
        """The observed moments as one packed ``N×K`` tensor."""
        return pack(self.observed)


def pack(moments: Sequence[Moments]) -> torch.Tensor:
    """Per-layer ``(mean, var)`` (each ``N×C``) → packed ``N×K``."""
    return torch.cat([t for pair in moments for t in pair], dim=1)


def unpack(packed: torch.Tensor, channels: Sequence[int]) -> list[Moments]:
    """Packed ``N×K`` → per-layer ``(mean, var)`` for the given channel counts."""
    out, start = [], 0
    for c in channels:
        out.append((packed[:, start : start + c], packed[:, start + c : start + 2 * c]))
        start += 2 * c
    return out
