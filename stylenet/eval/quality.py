"""Quality of trained models on held-out photos, one row per style: the content and style loss
of the model's outputs, the style loss of the photos themselves (what the model starts from)
and per photo the first Gatys L-BFGS iteration count that reaches the model's loss, with
Gatys started from the photo and/or from noise (:data:`~stylenet.eval.fast_vs_gatys.STARTS`).

Each style is scored on the painting it was trained on (``facts.style_images``, else by
name) at the style weight it was trained with (``facts.style_weights``, else the loss's), so
Gatys optimises the objective the network was trained for.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from stylenet.data.images import is_image_file, read_image
from stylenet.eval.fast_vs_gatys import STARTS, Comparison, compare, loss_terms
from stylenet.losses import PerceptualLoss
from stylenet.serve.loader import load_stylizer
from stylenet.serve.stylizer import Stylizer
from stylenet.styles import is_multi_style, one_hot

TRAINING_STYLE_SIZE = 512  # conf/painting/*.yaml: size
# Finer than the benchmark's curve below 25: trained models often match within 10 iterations
# (one function evaluation each), and the fine steps tell such models apart.
MATCH_ITERATIONS = (2, 4, 6, 8, 10, 15, 25, 50, 100, 200, 500)


@dataclass
class Row:
    """One style of one model: its scoring weight, the photos' own style loss and one
    comparison per Gatys start that was run."""

    model: str
    style: str
    style_weight: float
    photo_style: float
    results: dict[str, Comparison]  # per Gatys start (photo, noise)

    @property
    def fast(self) -> Comparison:
        """A comparison holding the model's own losses and speed (the same in every one)."""
        return next(iter(self.results.values()))


def painting_for(stylizer: Stylizer, style: str, styles_dir: Path) -> Path:
    """The painting ``style`` was trained on: the file name the model recorded, else the
    image called ``style`` (any extension) in ``styles_dir``."""
    recorded = stylizer.facts.get("style_images") or {}
    if style in recorded:
        return styles_dir / str(recorded[style])
    named = [p for p in sorted(styles_dir.glob(f"{style}.*")) if is_image_file(p)]
    return named[0] if named else styles_dir / f"{style}.jpg"


def training_style_weight(stylizer: Stylizer, style: str, default: float) -> float:
    """The style weight ``style`` was trained with (``facts.style_weights``), else ``default``."""
    return float((stylizer.facts.get("style_weights") or {}).get(style, default))


def evaluate(
    model: str,
    photos: Sequence[torch.Tensor],
    loss: PerceptualLoss,
    styles_dir: Path,
    *,
    repeats: int,
    iterations: Sequence[int] = MATCH_ITERATIONS,
    starts: Sequence[str] = STARTS,
    style_size: int = TRAINING_STYLE_SIZE,
    verbose: bool = True,
) -> list[Row]:
    """One row per style of ``model`` (a shipped name, ``.ckpt`` or ``.onnx``) on ``photos``
    (each ``3×H×W`` in [0, 1]), the paintings at ``style_size`` (longest side, as in
    training); Gatys runs from each of ``starts`` and stops at its match."""
    stylizer = load_stylizer(model, device="cpu")
    multi = is_multi_style(num_styles=len(stylizer.styles))
    rows = []
    for style in stylizer.styles:
        weight = training_style_weight(stylizer, style, loss.style_weight)
        loss.set_styles(
            [read_image(painting_for(stylizer, style, styles_dir), style_size)],
            style_scales=[weight / loss.style_weight],
        )
        row = torch.from_numpy(one_hot(stylizer.styles, style))[None] if multi else None

        def fast(batch: torch.Tensor, weights: torch.Tensor | None = row) -> torch.Tensor:
            rows = None if weights is None else weights.expand(len(batch), -1).numpy()
            return torch.from_numpy(stylizer(batch.detach().cpu().numpy(), rows))

        photo_style = statistics.mean(loss_terms(loss, p[None], p[None])[1] for p in photos)
        results = {
            start: compare(fast, photos, loss, iterations, repeats, stop_at_match=True, start=start)
            for start in starts
        }
        rows.append(Row(Path(model).stem, style, weight, photo_style, results))
        if verbose:
            print(table_line(rows[-1], largest=max(iterations)), flush=True)
    return rows


def median_match(matches: Sequence[int | None], largest: int = MATCH_ITERATIONS[-1]) -> str:
    """Median of per-photo matches; photos that never matched (within ``largest``
    iterations) are reported as a count."""
    if any(m is None for m in matches):
        unmatched = sum(m is None for m in matches)
        return f">{largest} for {unmatched} of {len(matches)}"
    return f"{statistics.median(m for m in matches if m is not None):g}"


HEADER = (
    "| model | style | style weight | content | style loss | style loss of the photo | Gatys "
    "iterations to match from the photo (median; per photo) | from noise (median; per photo) "
    "| model s/image |\n|---|---|---|---|---|---|---|---|---|"
)


def matches_cell(result: Comparison | None, largest: int = MATCH_ITERATIONS[-1]) -> str:
    """The median and per-photo matches of one start (``–``: that start was not run)."""
    if result is None:
        return "–"
    return f"{median_match(result.photo_matches, largest)}; {result.photo_matches}"


def table_line(row: Row, largest: int = MATCH_ITERATIONS[-1]) -> str:
    """``row`` as a line of the :data:`HEADER` table (``largest``: the most Gatys iterations)."""
    r = row.fast
    matches = " | ".join(matches_cell(row.results.get(start), largest) for start in STARTS)
    return (
        f"| {row.model} | {row.style} | {row.style_weight:g} | {r.fast_content:.3g} | {r.fast_style:.3g} | "
        f"{row.photo_style:.3g} | {matches} | {r.fast_seconds:.3f} |"
    )
