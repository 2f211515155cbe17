"""Optimise the pixels of an image against a differentiable objective (L-BFGS or Adam).

Shared by Gatys style transfer, texture synthesis and feature inversion. The image is a
``1×3×H×W`` tensor in [0, 1]. Adam steps are projected back into [0, 1]; L-BFGS runs
unconstrained (clamping between its steps corrupts the curvature pairs and makes it diverge
at 256 px, measured) and only the result is clamped.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from tqdm import tqdm

from stylenet.errors import ConfigError, StylenetError

Objective = Callable[[torch.Tensor], dict[str, torch.Tensor]]
StepCallback = Callable[[int, torch.Tensor], bool | None]
OPTIMIZERS = ("lbfgs", "adam")
DEFAULT_LR = {"lbfgs": 1.0, "adam": 0.02}


@dataclass
class OptimizeResult:
    """The optimised image (``1×3×H×W`` in [0, 1]) and the total loss before each step."""

    image: torch.Tensor
    history: list[float] = field(default_factory=list)


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
    iterations: int,
    optimizer: str = "lbfgs",
    lr: float | None = None,
    on_step: StepCallback | None = None,
    desc: str = "optimizing",
    progress: bool = True,
) -> OptimizeResult:
    """Minimise ``sum(objective(x).values())`` over the pixels ``x`` starting from ``init``.

    ``objective`` maps ``1×3×H×W`` → ``{term_name: scalar}``; the terms are shown in the
    progress bar. ``on_step(i, image)`` is called after step ``i`` (1-based); returning
    ``True`` stops the optimisation there. ``init`` is not modified.
    """
    if int(iterations) < 0:
        raise ConfigError(f"iterations must be >= 0, got {iterations}")
    image = init.detach().clamp(0, 1).contiguous().requires_grad_(True)
    opt = make_optimizer(optimizer, [image], lr)
    history: list[float] = []
    last_terms: dict[str, float] = {}

    def closure() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        terms = objective(image)
        total = torch.stack([t.reshape(()) for t in terms.values()]).sum()
        if not torch.isfinite(total):
            raise StylenetError(
                f"the loss became {total.item()} while {desc}; lower lr= or the loss weights"
            )
        total.backward()
        last_terms.clear()
        last_terms.update({k: float(v.detach()) for k, v in terms.items()})
        last_terms["total"] = float(total.detach())
        return total

    bar = tqdm(range(1, int(iterations) + 1), desc=desc, disable=not progress, leave=False)
    for step in bar:
        opt.step(closure)
        history.append(last_terms["total"])
        if optimizer == "adam":
            with torch.no_grad():
                image.clamp_(0, 1)
        bar.set_postfix({k: _short(v) for k, v in last_terms.items()}, refresh=False)
        if on_step is not None and on_step(step, image.detach().clamp(0, 1)):
            break
    bar.close()
    return OptimizeResult(image=image.detach().clamp(0, 1), history=history)


def _short(value: float) -> str:
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    return f"{value:.3g}"
