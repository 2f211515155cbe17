"""A feed-forward stylizer against Gatys optimisation on the same loss: which iteration count
of L-BFGS reaches the fast network's content + style loss, and how long each takes.

Johnson, Alahi and Fei-Fei (2016), Sec. 4.1, report that their networks match Gatys et al.
after about 50–100 L-BFGS iterations, ~1000× faster on a GPU. Gatys minimises the same
:class:`~stylenet.losses.PerceptualLoss` (content + style + TV) from the photo (``start=
"photo"``, far ahead: content loss 0) or, as in Johnson's baseline (fast-neural-style's
``slow_neural_style.lua``), from noise (``start="noise"``: :func:`noise_start`); the comparison
measures content + style only (TV is a regulariser, not a quality).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from stylenet.losses import PerceptualLoss
from stylenet.methods.gatys import GatysObjective
from stylenet.methods.optimize import DEFAULT_RANGE_WEIGHT, optimize_image

FastStylizer = Callable[[torch.Tensor], torch.Tensor]
"""``N×3×H×W`` RGB in [0, 255] → same: a trained network with its style fixed."""

ITERATIONS = (10, 25, 50, 100, 200, 500)
STARTS = ("photo", "noise")
# Caffe VGG mean pixel, RGB on 0-255 (the input space slow_neural_style.lua draws its noise in)
VGG_MEAN_PIXEL = (123.68, 116.779, 103.939)


def noise_start(shape: Sequence[int], seed: int = 0) -> torch.Tensor:
    """The start image of Johnson et al.'s Gatys baseline: ``torch.randn`` in the
    mean-subtracted 0–255 VGG input space, i.e. the mean pixel plus N(0, 1) noise on the 0–255
    scale; returned as ``N×3×H×W`` RGB in [0, 1] (``shape``: ``N×3×H×W``)."""
    generator = torch.Generator().manual_seed(int(seed))
    mean = torch.tensor(VGG_MEAN_PIXEL).view(1, 3, 1, 1)
    return ((mean + torch.randn(*shape, generator=generator)) / 255.0).clamp(0, 1)


@dataclass
class Comparison:
    """Means over photos of the fast model's loss terms, its median seconds per image, and
    Gatys' loss and seconds at each iteration count reached.

    ``photo_matches``: per photo, the first iteration count whose Gatys loss is <= that
    photo's fast loss (``None``: not within the largest count).
    """

    fast_content: float
    fast_style: float
    fast_seconds: float
    gatys_loss: dict[int, float] = field(default_factory=dict)
    gatys_seconds: dict[int, float] = field(default_factory=dict)
    photo_matches: list[int | None] = field(default_factory=list)

    @property
    def fast_loss(self) -> float:
        return self.fast_content + self.fast_style

    def matching_iterations(self) -> int | None:
        """The first iteration count whose mean Gatys loss is <= the fast model's (None: never)."""
        return next((k for k, v in sorted(self.gatys_loss.items()) if v <= self.fast_loss), None)

    def speedup(self) -> float | None:
        """Gatys time to match the fast loss / fast model time."""
        match = self.matching_iterations()
        return None if match is None else self.gatys_seconds[match] / self.fast_seconds


def loss_terms(
    loss: PerceptualLoss, image: torch.Tensor, content: torch.Tensor
) -> tuple[float, float]:
    """Weighted (content, style) loss of ``1×3×H×W`` ``image`` in [0, 1] for photo ``content``."""
    with torch.no_grad():
        terms = loss(image.clamp(0, 1), content)
    return float(terms.content.sum()), float(terms.style.sum())


def gatys_curve(
    loss: PerceptualLoss,
    content: torch.Tensor,
    iterations: Sequence[int] = ITERATIONS,
    stop_below: float | None = None,
    init: torch.Tensor | None = None,
) -> tuple[dict[int, float], dict[int, float]]:
    """Content + style loss and optimisation seconds after each of ``iterations`` of ONE
    L-BFGS run for the ``1×3×H×W`` photo ``content``, started from ``init`` (default: the
    photo); with ``stop_below``, the run stops at the first count whose loss is <= it (the
    later counts are then missing)."""
    wanted = set(iterations)
    losses: dict[int, float] = {}
    seconds: dict[int, float] = {}
    excluded = 0.0  # time spent measuring, not optimising
    start = time.perf_counter()

    def record(step: int, image: torch.Tensor) -> bool:
        nonlocal excluded
        if step not in wanted:
            return False
        now = time.perf_counter()
        seconds[step] = now - start - excluded
        losses[step] = sum(loss_terms(loss, image, content))
        excluded += time.perf_counter() - now
        return stop_below is not None and losses[step] <= stop_below

    objective = GatysObjective(loss, loss.content_targets(content))
    optimize_image(
        objective,
        content if init is None else init,
        iterations=max(iterations),
        optimizer="lbfgs",
        on_step=record,
        desc="gatys",
        progress=False,
        range_weight=DEFAULT_RANGE_WEIGHT,
    )
    return losses, seconds


def time_fast(
    stylizer: FastStylizer, batch: torch.Tensor, repeats: int
) -> tuple[float, torch.Tensor]:
    """Median seconds of ``stylizer`` on ``batch`` (0–255) after one warm-up, and its output."""
    out = stylizer(batch)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = stylizer(batch)
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def compare(
    stylizer: FastStylizer,
    photos: Sequence[torch.Tensor],
    loss: PerceptualLoss,
    iterations: Sequence[int] = ITERATIONS,
    repeats: int = 3,
    stop_at_match: bool = False,
    start: str = "photo",
) -> Comparison:
    """Compare ``stylizer`` with Gatys on ``photos`` (each ``3×H×W`` in [0, 1]).

    ``loss`` must have its one style set. ``stop_at_match`` ends each photo's Gatys run at
    its match (faster; the mean curve then only covers counts every photo reached). Gatys
    starts from each photo, or from :func:`noise_start` (seeded by the photo's index) with
    ``start="noise"``.
    """
    if start not in STARTS:
        raise ValueError(f"start must be one of {', '.join(STARTS)}; got {start!r}")
    contents, styles, fast_times, curves, matches = [], [], [], [], []
    for index, photo in enumerate(photos):
        batch = photo[None]
        seconds, out = time_fast(stylizer, batch * 255, repeats)
        content, style = loss_terms(loss, out / 255, batch)
        contents.append(content)
        styles.append(style)
        fast_times.append(seconds)
        init = noise_start(batch.shape, seed=index) if start == "noise" else None
        threshold = content + style if stop_at_match else None
        curve = gatys_curve(loss, batch, iterations, threshold, init=init)
        curves.append(curve)
        matches.append(next((k for k in sorted(curve[0]) if curve[0][k] <= content + style), None))
    result = Comparison(
        statistics.mean(contents),
        statistics.mean(styles),
        statistics.median(fast_times),
        photo_matches=matches,
    )
    for k in iterations:
        if all(k in losses for losses, _ in curves):
            result.gatys_loss[k] = statistics.mean(c[0][k] for c in curves)
            result.gatys_seconds[k] = statistics.median(c[1][k] for c in curves)
    return result


def report(result: Comparison) -> str:
    """A Markdown table plus the match/speedup line."""
    lines = ["| method | content+style loss | seconds/image |", "|---|---|---|"]
    lines.append(f"| fast model | {result.fast_loss:.4g} | {result.fast_seconds:.3f} |")
    for k, v in result.gatys_loss.items():
        lines.append(f"| Gatys {k} it | {v:.4g} | {result.gatys_seconds[k]:.2f} |")
    lines.append(
        f"\nfast model: content {result.fast_content:.4g}, style {result.fast_style:.4g}; "
        f"per photo, Gatys matches it at {result.photo_matches} iterations"
    )
    match = result.matching_iterations()
    if match is None:
        lines.append(f"Gatys did not reach the fast model's loss in {max(result.gatys_loss)} it.")
    else:
        lines.append(
            f"mean fast loss matched by Gatys at {match} iterations; speedup {result.speedup():.0f}×"
        )
    return "\n".join(lines)
