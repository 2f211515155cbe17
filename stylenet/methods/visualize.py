"""Class and neuron visualisation by regularised gradient ascent on the pixels.

Simonyan, Vedaldi and Zisserman (2014): find the image that maximises a class score
``S_c(x) - λ‖x - μ‖²`` (L2 decay). Yosinski et al. (2015) add regularisers that keep the
result natural-looking: periodic Gaussian blur, clipping pixels of small norm and pixels of
small contribution (|x·∂S/∂x|) back to grey, plus random jitter. Any score model works
(a classifier's logit, or a VGG channel's mean activation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tqdm import tqdm

from stylenet.errors import ConfigError

GREY = 0.5


@dataclass(frozen=True)
class Regularizers:
    """Yosinski et al. (2015) regularisers; 0 disables one.

    l2_decay: shrink ``x - grey`` by this fraction each step.
    blur_every / blur_sigma: Gaussian blur every n steps.
    norm_pct: pixels whose colour norm (distance from grey) is below this percentile → grey.
    contrib_pct: pixels whose contribution ``|Σ_c (x-grey)·grad|`` is below this percentile → grey.
    jitter: random roll of up to this many pixels before each step.
    """

    l2_decay: float = 0.01
    blur_every: int = 4
    blur_sigma: float = 0.5
    norm_pct: float = 0.0
    contrib_pct: float = 0.0
    jitter: int = 4


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of ``N×C×H×W`` (reflect padding, radius ``ceil(3σ)``)."""
    if sigma <= 0:
        return x
    radius = max(1, int(3 * sigma + 0.999))
    coords = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-0.5 * (coords / sigma) ** 2)
    kernel = kernel / kernel.sum()
    channels = x.shape[1]
    pad = min(radius, x.shape[-1] - 1, x.shape[-2] - 1)
    kernel = kernel[radius - pad : radius + pad + 1]
    horizontal = kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1)
    vertical = kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1)
    x = F.conv2d(F.pad(x, (pad, pad, 0, 0), mode="reflect"), horizontal, groups=channels)
    return F.conv2d(F.pad(x, (0, 0, pad, pad), mode="reflect"), vertical, groups=channels)


def _below_percentile(values: torch.Tensor, pct: float) -> torch.Tensor:
    """Boolean mask of ``values`` (``N×1×H×W``) below their ``pct`` percentile (0–100)."""
    threshold = torch.quantile(values.flatten().float(), pct / 100.0)
    return values < threshold


def visualize(
    score_fn: Callable[[torch.Tensor], torch.Tensor],
    size: tuple[int, int] = (128, 128),
    steps: int = 200,
    lr: float = 0.05,
    reg: Regularizers | None = None,
    init: torch.Tensor | None = None,
    progress: bool = True,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> tuple[torch.Tensor, list[float]]:
    """Ascend ``score_fn(x: 1×3×H×W) -> scalar`` from grey noise (or ``init``).

    Steps are normalised by the gradient's mean absolute value, so ``lr`` is in pixel units.
    Returns the ``1×3×H×W`` image in [0, 1] and the score before every step.
    """
    reg = reg or Regularizers()
    if steps < 1 or lr <= 0:
        raise ConfigError(f"need steps >= 1 and lr > 0, got {steps}, {lr}")
    if init is None:
        noise = torch.randn((1, 3, *size), generator=generator)
        x = (GREY + 0.02 * noise).to(device)
    else:
        x = init.detach().clone().to(device)
    history: list[float] = []
    bar = tqdm(range(steps), desc="visualize", disable=not progress)
    for step in bar:
        dy, dx = (
            torch.randint(-reg.jitter, reg.jitter + 1, (2,), generator=generator).tolist()
            if reg.jitter
            else (0, 0)
        )
        shifted = torch.roll(x, shifts=(dy, dx), dims=(2, 3)).requires_grad_(True)
        with torch.enable_grad():
            score = score_fn(shifted)
            (grad,) = torch.autograd.grad(score, shifted)
        score = score.detach()
        history.append(float(score))
        bar.set_postfix(score=f"{float(score):.4g}")
        grad = torch.roll(grad, shifts=(-dy, -dx), dims=(2, 3))
        x = x + lr / grad.abs().mean().clamp(min=1e-12) * grad
        x = _regularize(x, grad, reg, step)
    return x.clamp(0, 1).detach(), history


def _regularize(x: torch.Tensor, grad: torch.Tensor, reg: Regularizers, step: int) -> torch.Tensor:
    """Apply L2 decay, periodic blur and the two clipping rules of Yosinski et al. (2015)."""
    centred = (x - GREY) * (1.0 - reg.l2_decay)
    if reg.blur_every and (step + 1) % reg.blur_every == 0:
        centred = gaussian_blur(centred, reg.blur_sigma)
    if reg.norm_pct > 0:
        norm = centred.norm(dim=1, keepdim=True)
        centred = centred.masked_fill(_below_percentile(norm, reg.norm_pct), 0.0)
    if reg.contrib_pct > 0:
        contribution = (centred * grad).sum(dim=1, keepdim=True).abs()
        centred = centred.masked_fill(_below_percentile(contribution, reg.contrib_pct), 0.0)
    return (GREY + centred).clamp(0, 1)
