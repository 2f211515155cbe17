"""Feature inversion: find an image whose VGG features at one layer match a given image's.

Mahendran and Vedaldi, "Understanding Deep Image Representations by Inverting Them" (CVPR
2015): minimise ``‖Φ(x) − Φ(x₀)‖² / ‖Φ(x₀)‖² + λ·TV^β(x)`` over the pixels, from noise.
Shallow layers give the photo back almost exactly; deeper layers keep the layout and parts
but lose colour, texture detail and exact positions.

Images are ``1×3×H×W`` RGB in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from PIL import Image, ImageDraw

from stylenet.data.images import tensor_to_pil
from stylenet.losses import total_variation
from stylenet.methods.optimize import (
    DEFAULT_RANGE_WEIGHT,
    OptimizeResult,
    StepCallback,
    optimize_image,
)
from stylenet.nn.vgg import VGGFeatures


def feature_objective(
    vgg: VGGFeatures, target: torch.Tensor, layer: str, tv_weight: float, tv_beta: float
) -> Callable[[torch.Tensor], dict[str, torch.Tensor]]:
    """The inversion objective ``x ↦ {"feature", "tv"}`` for target features ``1×C×h×w``."""
    norm = target.float().pow(2).sum().clamp_min(1e-12)

    def objective(image: torch.Tensor) -> dict[str, torch.Tensor]:
        feats = vgg(image)[layer].float()
        terms = {"feature": (feats - target).pow(2).sum() / norm}
        if tv_weight > 0:
            terms["tv"] = tv_weight * total_variation(image, tv_beta).sum()
        return terms

    return objective


def invert_layer(
    vgg: VGGFeatures,
    image: torch.Tensor,
    layer: str,
    *,
    iterations: int = 200,
    tv_weight: float = 1.0,
    tv_beta: float = 2.0,
    optimizer: str = "lbfgs",
    lr: float | None = None,
    seed: int = 0,
    on_step: StepCallback | None = None,
    progress: bool = True,
    range_weight: float = DEFAULT_RANGE_WEIGHT,
) -> OptimizeResult:
    """Reconstruct ``image`` (``1×3×H×W``) from its ``layer`` features, starting from noise.

    ``vgg`` must compute ``layer``. The noise start is uniform in [0, 1] with ``seed``.
    ``range_weight``: L-BFGS's penalty on pixels outside [0, 1] (relative, see
    :func:`~stylenet.methods.optimize.optimize_image`); it plays the part of Mahendran and
    Vedaldi's bounded-range prior and lowers the deep layers' feature error (docs/BENCHMARKS.md,
    "L-BFGS range penalty").
    """
    with torch.no_grad():
        target = vgg(image)[layer].float()
    generator = torch.Generator().manual_seed(int(seed))
    start = torch.rand(image.shape, generator=generator).to(image.device)
    objective = feature_objective(vgg, target, layer, tv_weight, tv_beta)
    return optimize_image(
        objective,
        start,
        iterations=iterations,
        optimizer=optimizer,
        lr=lr,
        on_step=on_step,
        desc=f"inverting {layer}",
        progress=progress,
        range_weight=range_weight,
    )


def labelled_strip(images: Sequence[torch.Tensor], labels: Sequence[str]) -> Image.Image:
    """Images (each ``3×H×W`` or ``1×3×H×W``, same size) side by side, a label under each."""
    tiles = [tensor_to_pil(im) for im in images]
    width, height = tiles[0].size
    band = 18
    strip = Image.new("RGB", (width * len(tiles), height + band), (255, 255, 255))
    draw = ImageDraw.Draw(strip)
    for index, (tile, label) in enumerate(zip(tiles, labels, strict=True)):
        strip.paste(tile, (index * width, 0))
        draw.text((index * width + 4, height + 3), label, fill=(0, 0, 0))
    return strip
