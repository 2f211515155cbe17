"""Gatys style transfer and texture synthesis by optimising pixels on a frozen VGG.

- Style transfer: Gatys, Ecker and Bethge, "Image Style Transfer Using Convolutional Neural
  Networks" (CVPR 2016): match content features of the photo and Gram matrices of the
  painting, plus a total-variation prior.
- Texture synthesis: Gatys, Ecker and Bethge, "Texture Synthesis Using Convolutional Neural
  Networks" (NeurIPS 2015): the same objective without a content term, started from noise.
- Optional DeepDream term (Mordvintsev et al. 2015): maximise the mean square of one layer's
  activations at the same time.

Images are ``1×3×H×W`` RGB in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from stylenet.data import color
from stylenet.data.images import resize
from stylenet.errors import ConfigError
from stylenet.losses import PerceptualLoss, content_loss, mix_grams, style_loss, total_variation
from stylenet.methods.multiscale import MIN_SIDE, iterations_per_scale, scale_sizes, upsample
from stylenet.methods.optimize import (
    DEFAULT_RANGE_WEIGHT,
    OptimizeResult,
    StepCallback,
    optimize_image,
)
from stylenet.nn.vgg import VGGFeatures
from stylenet.options import require_positive
from stylenet.styles import normalize_weights


def dream_loss(features: Mapping[str, torch.Tensor], layer: str) -> torch.Tensor:
    """DeepDream objective as a loss: ``−mean(F_layer²)`` per image → ``N`` (minimise it)."""
    return -features[layer].float().pow(2).flatten(1).mean(dim=1)


def blended_grams(
    loss: PerceptualLoss, styles: Sequence[torch.Tensor], blend: Sequence[float]
) -> dict[str, torch.Tensor]:
    """Weighted mix ``Σ_k w_k G(style_k)`` of the styles' Gram targets ``{layer: C×C}``."""
    return mix_grams([loss.style_grams(s) for s in styles], blend)


class GatysObjective(nn.Module):
    """Content + style + TV (+ dream) loss from ONE VGG pass over the image.

    Uses ``loss``'s layers, weights and style targets (call ``loss.set_styles`` first).
    ``content_targets`` are precomputed features, or ``None`` for texture synthesis.
    ``loss.vgg`` must also compute ``dream_layer`` when ``dream_weight > 0``. ``dtype``
    (e.g. ``torch.bfloat16``) runs the VGG under autocast: about half the activation memory
    (and faster on CPUs with bf16 units); the losses stay float32.
    """

    def __init__(
        self,
        loss: PerceptualLoss,
        content_targets: Mapping[str, torch.Tensor] | None,
        dream_layer: str | None = None,
        dream_weight: float = 0.0,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.dtype = dtype
        self.loss = loss
        self.content_targets = content_targets
        self.dream_layer = dream_layer
        self.dream_weight = float(dream_weight)
        if self.dream_weight > 0 and dream_layer not in loss.vgg.layers:
            raise ConfigError(f"dream_layer {dream_layer!r} is not computed by the loss network")

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """``1×3×H×W`` → ``{"content", "style", "tv"[, "dream"]}`` scalars."""
        loss = self.loss
        with torch.autocast(image.device.type, dtype=self.dtype, enabled=self.dtype is not None):
            feats = {k: v.float() for k, v in loss.vgg(image).items()}
        terms: dict[str, torch.Tensor] = {}
        if self.content_targets is not None and loss.content_weight > 0:
            terms["content"] = loss.content_weight * content_loss(
                feats, self.content_targets, loss.content_layers
            )
        if loss.style_weight > 0:
            grams = loss.target_grams(None, image.shape[0])
            terms["style"] = loss.style_weight * style_loss(feats, grams, loss.style_layers)
        if loss.tv_weight > 0:
            terms["tv"] = loss.tv_weight * total_variation(image, loss.tv_beta)
        if self.dream_weight > 0 and self.dream_layer is not None:
            terms["dream"] = self.dream_weight * dream_loss(feats, self.dream_layer)
        return {name: value.sum() for name, value in terms.items()}


def build_loss_network(
    weights: str,
    pooling: str,
    content_layers: Mapping[str, float] | Sequence[str],
    style_layers: Mapping[str, float] | Sequence[str],
    dream_layer: str | None = None,
) -> VGGFeatures:
    """One frozen VGG computing the content, style and (optional) dream layers."""
    layers = [*content_layers, *style_layers]
    if dream_layer:
        layers.append(dream_layer)
    return VGGFeatures(layers, weights=weights, pooling=pooling)


@dataclass
class StyleTargets:
    """The style images, their mix weights and their size relative to the output."""

    images: Sequence[torch.Tensor]  # each 3×H×W in [0, 1]
    blend: Sequence[float] | None = None  # one weight >= 0 per image; None = equal weights
    scale: float = 1.0  # style longest side = scale × output longest side


ScaleCallback = Callable[[int, int, torch.Tensor], None]


def initial_image(
    init: str | torch.Tensor,
    content: torch.Tensor | None,
    size: tuple[int, int],
    seed: int = 0,
) -> torch.Tensor:
    """The start image ``1×3×H×W``: ``"content"``, ``"noise"`` (uniform, seeded) or an image."""
    if isinstance(init, torch.Tensor):
        return resize(init, size=size).unsqueeze(0) if init.dim() == 3 else resize(init, size=size)
    if init == "content":
        if content is None:
            raise ConfigError("init=content needs a content image; use init=noise for textures")
        return resize(content, size=size).unsqueeze(0)
    if init == "noise":
        generator = torch.Generator().manual_seed(int(seed))
        return torch.rand(1, 3, *size, generator=generator)
    raise ConfigError(f"init must be content, noise or an image path; got {init!r}")


def gatys_transfer(
    loss: PerceptualLoss,
    content: torch.Tensor | None,
    style: StyleTargets,
    *,
    size: tuple[int, int],
    iterations: int | Sequence[int] = 500,
    num_scales: int = 1,
    init: str | torch.Tensor = "content",
    optimizer: str = "lbfgs",
    lr: float | None = None,
    dream_layer: str | None = None,
    dream_weight: float = 0.0,
    original_colors: bool = False,
    seed: int = 0,
    on_step: ScaleCallback | None = None,
    progress: bool = True,
    dtype: torch.dtype | None = None,
    range_weight: float = DEFAULT_RANGE_WEIGHT,
) -> OptimizeResult:
    """Gatys style transfer (``content`` = ``3×H×W``) or texture synthesis (``content=None``).

    Solved coarse-to-fine over ``num_scales`` sizes ending at ``size`` = ``(H, W)``; each
    scale starts from the previous result upsampled. ``iterations``: per scale (int) or one
    count per scale. ``on_step(scale, step, image)`` sees every intermediate (with
    ``original_colors`` applied). ``dtype``: autocast dtype for the VGG (None = float32).
    ``range_weight``: L-BFGS's penalty on pixels outside [0, 1], relative to each scale's
    start loss (:func:`~stylenet.methods.optimize.optimize_image`; 0 = none).
    Returns the final ``1×3×H×W`` image, the loss history over all scales and the final
    scale's loss (before ``original_colors``).
    """
    sizes = scale_sizes(size[0], size[1], num_scales)
    counts = iterations_per_scale(iterations, len(sizes))
    blend = style_blend(style)
    require_positive("style_scale", style.scale, allow_zero=False)
    image = initial_image(init, content, sizes[0], seed)
    history: list[float] = []
    result = OptimizeResult(image=image)
    for index, (hw, count) in enumerate(zip(sizes, counts, strict=True)):
        scaled_content = None if content is None else resize(content, size=hw)
        loss.set_styles([_scale_grams(loss, style, hw, blend)])
        targets = None if scaled_content is None else loss.content_targets(scaled_content[None])
        objective = GatysObjective(loss, targets, dream_layer, dream_weight, dtype)
        start = upsample(image, hw)
        callback = None
        if on_step is not None:
            callback = _colour_callback(on_step, index, scaled_content, original_colors)
        desc = f"scale {index + 1}/{len(sizes)} {hw[0]}×{hw[1]}"
        result = optimize_image(
            objective,
            start,
            iterations=count,
            optimizer=optimizer,
            lr=lr,
            on_step=callback,
            desc=desc,
            progress=progress,
            range_weight=range_weight,
        )
        image = result.image
        history.extend(result.history)
    if original_colors and content is not None:
        image = _keep_colours(image, resize(content, size=sizes[-1])[None])
    return OptimizeResult(image=image, history=history, loss=result.loss)


def style_blend(style: StyleTargets) -> list[float]:
    """``style.blend`` normalised to sum to 1 (:func:`stylenet.styles.normalize_weights`);
    ``None`` = equal weights."""
    count = len(style.images)
    if count < 1:
        raise ConfigError("at least one style image is needed: style=PATH or style=[a.jpg,b.jpg]")
    weights = [1.0] * count if style.blend is None else style.blend
    return normalize_weights(weights, num_styles=count, what="style_blend").tolist()


def _scale_grams(
    loss: PerceptualLoss, style: StyleTargets, size: tuple[int, int], blend: Sequence[float]
) -> dict[str, torch.Tensor]:
    """Gram targets of the styles resized to ``style.scale`` × the output's longest side."""
    side = max(MIN_SIDE, round(style.scale * max(size)))
    return blended_grams(loss, [resize(s, max_side=side) for s in style.images], blend)


def _keep_colours(image: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """``N×3×H×W`` in [0, 1]: ``image``'s luminance with ``content``'s colours (a new tensor)."""
    kept = color.transfer_luminance(
        image.detach().float().cpu().numpy(), content.float().cpu().numpy(), channel_axis=-3
    )
    return torch.from_numpy(kept).to(device=image.device, dtype=image.dtype)


def _colour_callback(
    on_step: ScaleCallback, index: int, content: torch.Tensor | None, original_colors: bool
) -> StepCallback:
    def callback(step: int, image: torch.Tensor) -> None:
        if original_colors and content is not None:
            image = _keep_colours(image, content[None])
        on_step(index, step, image)

    return callback
