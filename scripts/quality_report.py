"""Quality of trained models on held-out photos: content and style loss, and the Gatys
iteration count each model matches (for docs/BENCHMARKS.md).

For every model and each of its styles: the mean content and style loss of its outputs on
``--num-photos`` held-out photos, the style loss of the photos themselves (what the model
starts from), and per photo the first of ``MATCH_ITERATIONS`` L-BFGS iterations at which
Gatys, run on the same loss, reaches the model's loss (the run stops there): started from the
photo (far ahead: no content loss to make up) and from noise, as Johnson et al. (2016) ran
their Gatys baseline (the mean pixel plus faint noise, ``noise_start``), so their 50-100
iteration anchor compares like with like.

    python scripts/quality_report.py                      # every shipped model
    python scripts/quality_report.py starry_night training/wave/checkpoints/last.ckpt \\
        --photos ../shared/data/coco/val2017 --num-photos 4 --size 256
    python scripts/quality_report.py --starts photo        # only from the photo (faster)

Paintings are found by the file names stored in each model (``facts.style_images``; else by
style name) in ``--styles`` (default: the shared style folder). Each style is scored with the
style weight it was trained with (``facts.style_weights``, else the perceptual config's), so
Gatys optimises the objective the network was trained for.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from stylenet.config import config_dir, shared_data_dir
from stylenet.data.images import is_image_file, list_images, read_image
from stylenet.losses import PerceptualLoss
from stylenet.methods.fast_vs_gatys import STARTS, Comparison, compare, loss_terms
from stylenet.serve.loader import load_stylizer, shipped_models
from stylenet.serve.stylizer import Stylizer
from stylenet.styles import one_hot

TRAINING_STYLE_SIZE = 512  # conf/train/style/*.yaml: size
# Finer than the benchmark's curve below 25: trained models often match within 10 iterations
# (one function evaluation each), and the fine steps tell such models apart.
MATCH_ITERATIONS = (2, 4, 6, 8, 10, 15, 25, 50, 100, 200, 500)


@dataclass
class Row:
    model: str
    style: str
    style_weight: float
    photo_style: float
    results: dict[str, Comparison]  # per Gatys start (photo, noise) that was run

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
    repeats: int,
    starts: Sequence[str] = STARTS,
) -> list[Row]:
    """One row per style of ``model`` (a shipped name, ``.ckpt`` or ``.onnx``), Gatys run
    from each of ``starts`` (``photo``, ``noise``)."""
    stylizer = load_stylizer(model, device="cpu")
    rows = []
    for style in stylizer.styles:
        weight = training_style_weight(stylizer, style, loss.style_weight)
        loss.set_styles(
            [read_image(painting_for(stylizer, style, styles_dir), TRAINING_STYLE_SIZE)],
            style_scales=[weight / loss.style_weight],
        )
        weights = one_hot(stylizer.styles, style)[None] if len(stylizer.styles) > 1 else None

        def fast(batch: torch.Tensor, weights: np.ndarray | None = weights) -> torch.Tensor:
            return torch.from_numpy(stylizer(batch.detach().cpu().numpy(), weights))

        photo_style = statistics.mean(loss_terms(loss, p[None], p[None])[1] for p in photos)
        results = {
            start: compare(
                fast, photos, loss, MATCH_ITERATIONS, repeats, stop_at_match=True, start=start
            )
            for start in starts
        }
        rows.append(Row(Path(model).stem, style, weight, photo_style, results))
        print(table_line(rows[-1]), flush=True)
    return rows


def median_match(matches: Sequence[int | None]) -> str:
    """Median of per-photo matches; photos that never matched are reported as a count."""
    if any(m is None for m in matches):
        unmatched = sum(m is None for m in matches)
        return f">{MATCH_ITERATIONS[-1]} for {unmatched} of {len(matches)}"
    return f"{statistics.median(matches):g}"


HEADER = (
    "| model | style | style weight | content | style loss | style loss of the photo | Gatys "
    "iterations to match from the photo (median; per photo) | from noise (median; per photo) "
    "| model s/image |\n|---|---|---|---|---|---|---|---|---|"
)


def matches_cell(result: Comparison | None) -> str:
    return (
        "–" if result is None else f"{median_match(result.photo_matches)}; {result.photo_matches}"
    )


def table_line(row: Row) -> str:
    r = row.fast
    matches = " | ".join(matches_cell(row.results.get(start)) for start in STARTS)
    return (
        f"| {row.model} | {row.style} | {row.style_weight:g} | {r.fast_content:.3g} | {r.fast_style:.3g} | "
        f"{row.photo_style:.3g} | {matches} | {r.fast_seconds:.3f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "models", nargs="*", help="shipped names, .ckpt or .onnx (default: shipped)"
    )
    parser.add_argument("--photos", default=None, help="held-out photos (default: coco/val2017)")
    parser.add_argument("--styles", default=None, help="the paintings (default: shared styles/)")
    parser.add_argument("--num-photos", type=int, default=4)
    parser.add_argument("--size", type=int, default=256, help="photo longest side")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of the model per photo")
    parser.add_argument("--perceptual", default="vgg19_caffe_fast", help="the scoring loss")
    parser.add_argument(
        "--starts", default=",".join(STARTS), help="Gatys starts: photo, noise or both"
    )
    args = parser.parse_args()
    starts = [start for start in args.starts.split(",") if start]
    if not starts or any(start not in STARTS for start in starts):
        raise SystemExit(f"--starts takes {' and/or '.join(STARTS)}, comma-separated")
    models = args.models or shipped_models()
    if not models:
        raise SystemExit("no models: none shipped in exported/; name .ckpt or .onnx files")
    photos_dir = Path(args.photos or shared_data_dir("coco/val2017"))
    styles_dir = Path(args.styles or shared_data_dir("styles"))
    paths = list_images(photos_dir)[: args.num_photos]
    photos = [read_image(p, max_side=args.size) for p in paths]
    cfg = OmegaConf.load(Path(config_dir()) / "perceptual" / f"{args.perceptual}.yaml")
    loss: PerceptualLoss = instantiate(cfg, _convert_="all")
    print(
        f"{len(photos)} photos of {photos_dir} at {args.size} px, perceptual={args.perceptual}, "
        f"threads={torch.get_num_threads()}\n\n{HEADER}",
        flush=True,
    )
    for model in models:
        evaluate(model, photos, loss, styles_dir, args.repeats, starts)


if __name__ == "__main__":
    main()
