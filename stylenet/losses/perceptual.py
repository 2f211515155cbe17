"""Perceptual loss on a frozen VGG: content (feature MSE), style (Gram MSE) and total variation
(Gatys et al. 2016; Johnson, Alahi and Fei-Fei 2016).

Images are ``N×3×H×W`` RGB in [0, 1]. Losses are returned per image (shape ``N``) so callers
can average, weight or group them (e.g. per style in multi-style training).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from stylenet.errors import ConfigError
from stylenet.losses.gram import gram_matrix
from stylenet.losses.tv import total_variation
from stylenet.nn.vgg import VGGFeatures
from stylenet.options import require_positive


@dataclass
class LossTerms:
    """Weighted loss terms per image (each ``N``); ``total`` is their sum."""

    content: torch.Tensor
    style: torch.Tensor
    tv: torch.Tensor

    @property
    def total(self) -> torch.Tensor:
        return self.content + self.style + self.tv


def content_loss(
    features: Mapping[str, torch.Tensor],
    targets: Mapping[str, torch.Tensor],
    layer_weights: Mapping[str, float],
) -> torch.Tensor:
    """``Σ_l w_l · mean((F_l − T_l)²)`` per image → ``N``."""
    terms = [
        w * (features[layer] - targets[layer]).pow(2).flatten(1).mean(dim=1)
        for layer, w in layer_weights.items()
    ]
    return torch.stack(terms).sum(dim=0)


def style_loss(
    features: Mapping[str, torch.Tensor],
    target_grams: Mapping[str, torch.Tensor],
    layer_weights: Mapping[str, float],
) -> torch.Tensor:
    """``Σ_l w_l · mean((G(F_l) − T_l)²)`` per image → ``N``.

    ``target_grams[l]`` is ``C×C`` (shared) or ``N×C×C`` (one target per image).
    """
    terms = []
    for layer, w in layer_weights.items():
        diff = gram_matrix(features[layer]) - target_grams[layer]
        terms.append(w * diff.pow(2).flatten(1).mean(dim=1))
    return torch.stack(terms).sum(dim=0)


def _validated_layers(name: str, layers: Mapping[str, float] | Sequence[str]) -> dict[str, float]:
    if isinstance(layers, Mapping):
        weights = {str(k): require_positive(f"{name}.{k}", v) for k, v in layers.items()}
    else:
        weights = {str(k): 1.0 for k in layers}
    return weights


class PerceptualLoss(nn.Module):
    """Content + style + TV loss with precomputed style targets.

    Args:
        content_layers / style_layers: ``{layer: weight}`` (or a list: weight 1 each).
        content_weight, style_weight, tv_weight: global weights (>= 0).
        weights, pooling: the VGG weight source and pooling (see :class:`VGGFeatures`).
        tv_beta: ``None`` for the L1 TV, else the TV^β exponent.
        vgg: an existing :class:`VGGFeatures` to share (must cover all layers).

    Style targets are set with :meth:`set_styles` (one Gram set per style, stacked ``S×C×C``);
    ``forward(output, content, style_weights)`` mixes them per image with ``style_weights``
    (``N×S`` rows that sum to 1; ``None`` means style 0, or the only style).
    """

    style_scales: torch.Tensor

    def __init__(
        self,
        content_layers: Mapping[str, float] | Sequence[str],
        style_layers: Mapping[str, float] | Sequence[str],
        content_weight: float = 1.0,
        style_weight: float = 1.0,
        tv_weight: float = 0.0,
        weights: str = "vgg19_caffe",
        pooling: str = "max",
        tv_beta: float | None = None,
        vgg: VGGFeatures | None = None,
    ) -> None:
        super().__init__()
        self.content_layers = _validated_layers("content_layers", content_layers)
        self.style_layers = _validated_layers("style_layers", style_layers)
        self.content_weight = require_positive("content_weight", content_weight)
        self.style_weight = require_positive("style_weight", style_weight)
        self.tv_weight = require_positive("tv_weight", tv_weight)
        self.tv_beta = tv_beta
        needed = list(self.content_layers) + list(self.style_layers)
        if vgg is not None:
            missing = [layer for layer in needed if layer not in vgg.layers]
            if missing:
                raise ConfigError(f"the shared VGG does not compute layers {missing}")
        self.vgg = vgg if vgg is not None else VGGFeatures(needed, weights=weights, pooling=pooling)
        self.num_styles = 0

    def style_grams(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """``1×3×H×W`` (or ``3×H×W``) style image → ``{layer: C×C}`` Gram targets."""
        batch = image if image.dim() == 4 else image.unsqueeze(0)
        with torch.no_grad():
            feats = self.vgg(batch)
            return {layer: gram_matrix(feats[layer]).mean(dim=0) for layer in self.style_layers}

    def set_styles(
        self,
        styles: Sequence[torch.Tensor | Mapping[str, torch.Tensor]],
        style_scales: Sequence[float] | None = None,
    ) -> None:
        """Store S style targets: each an image (``3×H×W`` in [0, 1]) or a Gram dict.

        A Gram dict lets callers pass a weighted mix of several images (:func:`mix_grams`).
        ``style_scales`` (S factors, default 1) multiply each style's loss on top of
        ``style_weight``: some paintings need a stronger or weaker style term.
        """
        if len(styles) == 0:
            raise ConfigError("at least one style image is needed")
        scales = [1.0] * len(styles) if style_scales is None else list(style_scales)
        if len(scales) != len(styles):
            raise ConfigError(f"{len(scales)} style scale(s) for {len(styles)} style(s)")
        scales = [require_positive("style scale", value) for value in scales]
        grams = [s if isinstance(s, Mapping) else self.style_grams(s) for s in styles]
        for layer in self.style_layers:
            stacked = torch.stack([g[layer].float().reshape(g[layer].shape[-2:]) for g in grams])
            self.register_buffer(_buffer_name(layer), stacked, persistent=False)
        device = next(iter(grams[0].values())).device
        self.register_buffer("style_scales", torch.tensor(scales, device=device), persistent=False)
        self.num_styles = len(grams)

    def per_image_style_scale(self, style_weights: torch.Tensor | None, batch: int) -> torch.Tensor:
        """``N`` factors: each image's blend of the per-style scales."""
        if style_weights is None:
            return self.style_scales[0].expand(batch)
        return style_weights.float() @ self.style_scales

    def target_grams(
        self, style_weights: torch.Tensor | None, batch: int
    ) -> dict[str, torch.Tensor]:
        """Per-image Gram targets ``{layer: N×C×C}`` for ``style_weights`` (``N×S``)."""
        if self.num_styles == 0:
            raise RuntimeError("PerceptualLoss.set_styles() must be called before computing style")
        targets = {}
        for layer in self.style_layers:
            stacked: torch.Tensor = getattr(self, _buffer_name(layer))
            if style_weights is None:
                targets[layer] = stacked[0].expand(batch, -1, -1)
            else:
                targets[layer] = torch.einsum("ns,scd->ncd", style_weights.float(), stacked)
        return targets

    def content_targets(self, content: torch.Tensor) -> dict[str, torch.Tensor]:
        """Content features ``{layer: N×C×h×w}``, computed without gradients (and without the
        layers deeper than the content layers)."""
        with torch.no_grad():
            feats = self.vgg(content, layers=self.content_layers)
        return {layer: feats[layer] for layer in self.content_layers}

    def forward(
        self,
        output: torch.Tensor,
        content: torch.Tensor | Mapping[str, torch.Tensor] | None = None,
        style_weights: torch.Tensor | None = None,
    ) -> LossTerms:
        """Loss terms for ``output`` (``N×3×H×W`` in [0, 1]).

        ``content`` is the content image batch or precomputed :meth:`content_targets`; ``None``
        (texture synthesis) gives a zero content term.
        """
        n = output.shape[0]
        zero = output.new_zeros(n, dtype=torch.float32)
        feats = self.vgg(output)
        content_term = zero
        if content is not None and self.content_weight > 0:
            targets = content if isinstance(content, Mapping) else self.content_targets(content)
            content_term = self.content_weight * content_loss(
                {k: v.float() for k, v in feats.items()},
                {k: v.float() for k, v in targets.items()},
                self.content_layers,
            )
        style_term = zero
        if self.style_weight > 0 and self.num_styles > 0:
            grams = self.target_grams(style_weights, n)
            scale = self.per_image_style_scale(style_weights, n)
            style_term = self.style_weight * scale * style_loss(feats, grams, self.style_layers)
        tv_term = zero
        if self.tv_weight > 0:
            tv_term = self.tv_weight * total_variation(output.float(), self.tv_beta)
        return LossTerms(content=content_term, style=style_term, tv=tv_term)


def _buffer_name(layer: str) -> str:
    return f"style_gram_{layer}"
