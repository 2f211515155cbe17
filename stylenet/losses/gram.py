"""Gram matrices of feature maps (Gatys, Ecker and Bethge 2015/2016)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from stylenet.styles import normalize_weights


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """``N×C×H×W`` feature maps → ``N×C×C`` Gram matrices, ``G = F Fᵀ / (C·H·W)``.

    Normalising by ``C·H·W`` (as Johnson et al. 2016) makes the value independent of the
    image size, so one style weight works at every resolution and layer width. The product is
    computed in at least float32, also under autocast (bf16 Grams lose too much precision);
    float64 features give float64 Grams.
    """
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    flat = flat.to(torch.promote_types(flat.dtype, torch.float32))
    with torch.autocast(device_type=features.device.type, enabled=False):
        return torch.bmm(flat, flat.transpose(1, 2)) / (c * h * w)


def mix_grams(
    grams: Sequence[dict[str, torch.Tensor]], weights: Sequence[float] | torch.Tensor
) -> dict[str, torch.Tensor]:
    """Weighted mix of several styles' Gram targets: ``Σ_k w_k G_k`` per layer.

    ``grams[k][layer]`` is ``C×C`` (or ``1×C×C``); ``weights`` (one per style, >= 0) are
    normalised to sum to 1 by :func:`stylenet.styles.normalize_weights`.
    """
    if isinstance(weights, torch.Tensor):
        weights = weights.detach().cpu().double().reshape(-1).tolist()
    w = normalize_weights(weights, num_styles=len(grams)).tolist()
    return {layer: sum(wk * g[layer] for wk, g in zip(w, grams, strict=True)) for layer in grams[0]}
