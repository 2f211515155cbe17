"""Optimise the pixels of an image against a differentiable objective (L-BFGS or Adam).

Shared by Gatys style transfer, texture synthesis and feature inversion. The image is a
``1×3×H×W`` tensor in [0, 1]. Adam steps are projected back into [0, 1]; L-BFGS runs
unconstrained (clamping between its steps corrupts the curvature pairs and makes it diverge)
and only the result is clamped.

Unconstrained, the L-BFGS iterate drifts out of [0, 1] over a long run and its clamped result
gets worse although the loss the optimiser sees keeps falling. ``range_weight`` adds a
smooth penalty on the excess (:func:`~stylenet.losses.range_penalty`) that keeps the iterate
in range without touching the curvature pairs (measurements: docs/BENCHMARKS.md, "L-BFGS
range penalty"). Its weight is relative to the start loss per pixel value, so it is equally
stiff whatever the loss weights and image size: an absolute one too stiff for the loss makes
L-BFGS without line search oscillate.

Neither optimiser is monotone, so the result is the iterate with the lowest loss seen, not
merely the last one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from tqdm import tqdm

from stylenet.errors import ConfigError, StylenetError
from stylenet.losses.range import range_penalty
from stylenet.options import require_positive

Objective = Callable[[torch.Tensor], dict[str, torch.Tensor]]
StepCallback = Callable[[int, torch.Tensor], bool | None]
OPTIMIZERS = ("lbfgs", "adam")
DEFAULT_LR = {"lbfgs": 1.0, "adam": 0.02}
# Chosen from stiffer and softer settings for Gatys and feature inversion: docs/BENCHMARKS.md,
# "L-BFGS range penalty".
DEFAULT_RANGE_WEIGHT = 1.0e3


@dataclass
class OptimizeResult:
    """The optimised image (``1×3×H×W`` in [0, 1]), the total loss before each step, and the
    loss of the returned image (``nan`` when no iteration ran)."""

    image: torch.Tensor
    history: list[float] = field(default_factory=list)
    loss: float = math.nan


def make_optimizer(
    name: str, params: list[torch.Tensor], lr: float | None
) -> torch.optim.Optimizer:
    """``lbfgs`` (one function evaluation per step, no line search) or ``adam``."""
    if name not in OPTIMIZERS:
        raise ConfigError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {name!r}")
    rate = DEFAULT_LR[name] if lr is None else float(lr)
    if not rate > 0:
        raise ConfigError(f"lr must be > 0, got {lr!r}")
    if name == "adam":
        return torch.optim.Adam(params, lr=rate)
    # max_iter=1: one closure evaluation per .step(); the curvature history persists across
    # steps, so this is plain L-BFGS with a per-iteration hook (progress bar, snapshots).
    return torch.optim.LBFGS(
        params, lr=rate, max_iter=1, history_size=100, tolerance_grad=0.0, tolerance_change=0.0
    )


def optimize_image(
    objective: Objective,
    init: torch.Tensor,
    *,
    iterations: int,
    optimizer: str = "lbfgs",
    lr: float | None = None,
    on_step: StepCallback | None = None,
    desc: str = "optimizing",
    progress: bool = True,
    range_weight: float = 0.0,
) -> OptimizeResult:
    """Minimise ``sum(objective(x).values())`` over the pixels ``x`` starting from ``init``.

    ``objective`` maps ``1×3×H×W`` → ``{term_name: scalar}``; the terms are shown in the
    progress bar. ``on_step(i, image)`` is called after step ``i`` (1-based); returning
    ``True`` stops the optimisation there. ``range_weight`` (relative; 0 = off) adds a
    ``"range"`` term for pixels outside [0, 1] (Adam projects instead, so it stays 0 there).
    ``init`` is not modified. Returns the evaluated iterate with the lowest loss (the image
    after the last step is evaluated too).
    """
    if int(iterations) < 0:
        raise ConfigError(f"iterations must be >= 0, got {iterations}")
    image = init.detach().clamp(0, 1).contiguous().requires_grad_(True)
    objective = with_range_penalty(objective, image, range_weight)
    opt = make_optimizer(optimizer, [image], lr)
    history: list[float] = []
    last_terms: dict[str, float] = {}
    best = BestIterate()

    def closure() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        total, terms = _total(objective, image, desc)
        best.offer(float(total.detach()), image)
        total.backward()
        last_terms.clear()
        last_terms.update({k: float(v.detach()) for k, v in terms.items()})
        last_terms["total"] = float(total.detach())
        return total

    bar = tqdm(range(1, int(iterations) + 1), desc=desc, disable=not progress, leave=False)
    for step in bar:
        opt.step(closure)  # type: ignore[arg-type]  # torch types closures as -> float
        history.append(last_terms["total"])
        if optimizer == "adam":
            with torch.no_grad():
                image.clamp_(0, 1)
        bar.set_postfix({k: _short(v) for k, v in last_terms.items()}, refresh=False)
        if on_step is not None and on_step(step, image.detach().clamp(0, 1)):
            break
    bar.close()
    if history:
        with torch.no_grad():
            best.offer(float(_total(objective, image, desc)[0]), image)
    else:
        best.offer(math.nan, image)
    return OptimizeResult(image=best.image.clamp(0, 1), history=history, loss=best.loss)


def with_range_penalty(objective: Objective, start: torch.Tensor, relative: float) -> Objective:
    """``objective`` plus a ``"range"`` term: ``relative`` × (the objective at ``start`` per
    pixel value) × :func:`~stylenet.losses.range_penalty`. ``relative = 0``: ``objective``."""
    if require_positive("range_weight", relative) == 0:
        return objective
    with torch.no_grad():
        start_loss = sum(float(v) for v in objective(start).values())
    weight = float(relative) * abs(start_loss) / start.numel()

    def penalised(image: torch.Tensor) -> dict[str, torch.Tensor]:
        return {**objective(image), "range": weight * range_penalty(image).sum()}

    return penalised


class BestIterate:
    """The lowest-loss image offered so far (a detached copy)."""

    def __init__(self) -> None:
        self.loss = math.inf
        self.image = torch.empty(0)

    def offer(self, loss: float, image: torch.Tensor) -> None:
        if loss < self.loss or self.image.numel() == 0:
            self.loss = loss
            self.image = image.detach().clone()


def _total(
    objective: Objective, image: torch.Tensor, desc: str
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The summed objective at ``image`` and its terms; a non-finite loss is an error."""
    terms = objective(image)
    total = torch.stack([t.reshape(()) for t in terms.values()]).sum()
    if not torch.isfinite(total):
        raise StylenetError(
            f"the loss became {total.item()} while {desc}; lower lr= or the loss weights"
        )
    return total, terms


def _short(value: float) -> str:
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    return f"{value:.3g}"
