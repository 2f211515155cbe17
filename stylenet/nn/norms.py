"""Normalisation layers for the transformer network, all called as ``norm(x, style_weights)``.

- :class:`InstanceNorm` — instance normalisation with affine parameters (Ulyanov, Vedaldi and
  Lempitsky 2016): what makes feed-forward stylization work.
- :class:`ConditionalInstanceNorm2d` — one (γ, β) per style, mixed by ``style_weights``
  (Dumoulin, Shlens and Kudlur 2017, "A Learned Representation for Artistic Style").
- :class:`BatchNorm` and :class:`NoNorm` for comparison.

The two instance norms also take ``moments=(mean, var)`` (``N×C`` each): normalise with those
statistics instead of the input's own (thumbnail instance normalisation, see
:mod:`stylenet.nn.statistics`).

:func:`norm_factory` turns a config name into ``channels -> module``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from stylenet.errors import ConfigError
from stylenet.nn.statistics import Moments, normalize_with
from stylenet.styles import MULTI_STYLE_NORM

NormFactory = Callable[[int], nn.Module]


class InstanceNorm(nn.Module):
    """Instance norm with per-channel affine (γ, β); ``style_weights`` is ignored."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.norm = nn.InstanceNorm2d(channels, affine=True, eps=eps)

    def forward(
        self,
        x: torch.Tensor,
        style_weights: torch.Tensor | None = None,
        moments: Moments | None = None,
    ) -> torch.Tensor:
        if moments is None:
            return self.norm(x)
        normalized = normalize_with(x, moments, self.norm.eps)
        return normalized * self.norm.weight[:, None, None] + self.norm.bias[:, None, None]


class BatchNorm(nn.Module):
    """Batch norm (the pre-instance-norm baseline); ``style_weights`` is ignored."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor, style_weights: torch.Tensor | None = None) -> torch.Tensor:
        return self.norm(x)


class NoNorm(nn.Module):
    """Identity (no normalisation)."""

    def forward(self, x: torch.Tensor, style_weights: torch.Tensor | None = None) -> torch.Tensor:
        return x


def conditional_instance_norm(
    x: torch.Tensor,
    style_weights: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    eps: float = 1e-5,
    moments: Moments | None = None,
) -> torch.Tensor:
    """Instance-normalise ``x`` (``N×C×H×W``) and apply the blended (γ, β).

    ``style_weights`` is ``N×S`` (a one-hot row selects one style), ``gamma``/``beta`` are
    ``S×C``; each image gets ``γ = wᵀΓ`` and ``β = wᵀB`` (a convex mix when rows sum to 1).
    ``moments``: ``(mean, var)`` (``N×C``) to normalise with instead of ``x``'s own.
    """
    normalized = F.instance_norm(x, eps=eps) if moments is None else normalize_with(x, moments, eps)
    mixed_gamma = (style_weights.to(gamma.dtype) @ gamma).to(x.dtype)
    mixed_beta = (style_weights.to(beta.dtype) @ beta).to(x.dtype)
    return normalized * mixed_gamma[:, :, None, None] + mixed_beta[:, :, None, None]


class ConditionalInstanceNorm2d(nn.Module):
    """Instance norm with one (γ, β) pair per style (Dumoulin et al. 2017).

    Parameters ``gamma``, ``beta``: ``S×C``. ``forward(x: N×C×H×W, style_weights: N×S)``.
    Without ``style_weights`` a single-style module uses its only style.
    """

    def __init__(self, channels: int, num_styles: int, eps: float = 1e-5) -> None:
        super().__init__()
        if num_styles < 1:
            raise ConfigError(f"num_styles must be >= 1, got {num_styles}")
        self.num_styles = num_styles
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(num_styles, channels))
        self.beta = nn.Parameter(torch.zeros(num_styles, channels))

    def forward(
        self,
        x: torch.Tensor,
        style_weights: torch.Tensor | None = None,
        moments: Moments | None = None,
    ) -> torch.Tensor:
        if style_weights is None:
            if self.num_styles != 1:
                raise ValueError("a multi-style network needs style_weights (N×S)")
            style_weights = x.new_ones(x.shape[0], 1)
        return conditional_instance_norm(
            x, style_weights, self.gamma, self.beta, self.eps, moments=moments
        )


def norm_factory(kind: str, num_styles: int = 1) -> NormFactory:
    """``instance`` | ``conditional_instance`` | ``batch`` | ``none`` → ``channels -> module``."""
    if kind == "instance":
        return InstanceNorm
    if kind == MULTI_STYLE_NORM:
        return lambda channels: ConditionalInstanceNorm2d(channels, num_styles)
    if kind == "batch":
        return BatchNorm
    if kind == "none":
        return lambda channels: NoNorm()
    raise ConfigError(
        f"unknown norm {kind!r}; choose instance, conditional_instance, batch or none"
    )
