"""DeepDream (Mordvintsev, Olah and Tyka 2015): amplify whatever a layer sees in a photo.

Gradient ascent on the pixels of ``½‖A‖²`` for a layer's activations ``A`` (or one channel),
or on the guide objective ``Σ A·G*`` where ``G*`` is, at each position, the guide image's
feature vector that best matches ``A`` (largest dot product). Each step is normalised by
the mean absolute gradient (an L1-normalised step), applied under a random jitter (roll) of
the image, and the pixels are clipped to [0, 1]. Octaves: the image is processed from the
smallest scale up, and the *detail* added at one scale (dreamed minus original) is upscaled
and carried into the next.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from tqdm import tqdm

from stylenet.errors import ConfigError


def layer_objective(
    act: torch.Tensor, channel: int | None = None, guide: torch.Tensor | None = None
) -> torch.Tensor:
    """Objective to ascend for activations ``N×C×h×w``: one number.

    ``½ Σ A²`` over the layer or over ``channel``; with ``guide`` (``C×M``, the guide's
    features) ``Σ_positions A·G[:, best match]``.
    """
    if channel is not None:
        if not 0 <= channel < act.shape[1]:
            raise ConfigError(f"channel {channel} is out of range; the layer has {act.shape[1]}")
        act = act[:, channel : channel + 1]
    if guide is None:
        return 0.5 * act.pow(2).sum()
    flat = act.flatten(2)  # N×C×P
    match = torch.einsum("ncp,cm->npm", flat.detach(), guide).argmax(dim=2)  # N×P
    target = guide[:, match].permute(1, 0, 2)  # N×C×P
    return (flat * target).sum()


def guide_features(
    features: Callable[[torch.Tensor], torch.Tensor],
    guide: torch.Tensor,
    channel: int | None = None,
) -> torch.Tensor:
    """A guide image ``1×3×H×W`` → its features ``C×M`` (M positions) for :func:`layer_objective`."""
    with torch.no_grad():
        act = features(guide)
    if channel is not None:
        act = act[:, channel : channel + 1]
    return act[0].flatten(1)


def octave_sizes(height: int, width: int, octaves: int, scale: float) -> list[tuple[int, int]]:
    """Sizes from the smallest octave to the full image (each ``scale`` times the previous)."""
    if octaves < 1 or scale <= 1.0:
        raise ConfigError(f"octaves must be >= 1 and octave_scale > 1, got {octaves}, {scale}")
    sizes = [
        (max(1, round(height / scale**i)), max(1, round(width / scale**i))) for i in range(octaves)
    ]
    return sizes[::-1]


def dream_step(
    features: Callable[[torch.Tensor], torch.Tensor],
    image: torch.Tensor,
    step_size: float,
    jitter: int,
    channel: int | None = None,
    guide: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, float]:
    """One ascent step on ``1×3×H×W`` ``image``; returns (new image, objective before the step)."""
    dy, dx = (
        torch.randint(-jitter, jitter + 1, (2,), generator=generator).tolist() if jitter else (0, 0)
    )
    x = torch.roll(image.detach(), shifts=(dy, dx), dims=(2, 3)).requires_grad_(True)
    with torch.enable_grad():
        objective = layer_objective(features(x), channel, guide)
        (grad,) = torch.autograd.grad(objective, x)
    step = step_size / grad.abs().mean().clamp(min=1e-12) * grad
    moved = torch.roll(x.detach() + step, shifts=(-dy, -dx), dims=(2, 3))
    return moved.clamp(0, 1), float(objective.detach())


def deep_dream(
    features: Callable[[torch.Tensor], torch.Tensor],
    image: torch.Tensor,
    iterations: int = 10,
    octaves: int = 4,
    octave_scale: float = 1.4,
    step_size: float = 0.006,
    jitter: int = 32,
    channel: int | None = None,
    guide: torch.Tensor | None = None,
    progress: bool = True,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, list[float]]:
    """DeepDream ``1×3×H×W`` [0, 1] ``image`` with ``features: image -> N×C×h×w``.

    ``step_size`` is in [0, 1] pixel units (the original's 1.5 on 0–255 is ≈ 0.006);
    ``guide`` is a ``C×M`` tensor from :func:`guide_features`. Returns the dreamed image
    and the objective at every step (octave after octave).
    """
    if iterations < 1 or step_size <= 0 or jitter < 0:
        raise ConfigError(
            f"need iterations >= 1, step_size > 0, jitter >= 0; got {iterations}, {step_size}, {jitter}"
        )
    base = image.detach()
    height, width = base.shape[-2:]
    sizes = octave_sizes(height, width, octaves, octave_scale)
    detail = torch.zeros_like(base[:, :, : sizes[0][0], : sizes[0][1]])
    history: list[float] = []
    bar = tqdm(total=iterations * len(sizes), desc="dream", disable=not progress)
    for size in sizes:
        octave_base = _resize(base, size)
        detail = _resize(detail, size)
        dreamed = (octave_base + detail).clamp(0, 1)
        for _ in range(iterations):
            dreamed, value = dream_step(
                features, dreamed, step_size, min(jitter, min(size) // 2), channel, guide, generator
            )
            history.append(value)
            bar.set_postfix(octave=f"{size[0]}x{size[1]}", objective=f"{value:.4g}")
            bar.update()
        detail = dreamed - octave_base
    bar.close()
    return dreamed.detach(), history


def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)
