"""Quality of trained models on held-out photos: content and style loss, and the Gatys
iteration count each model matches (for docs/BENCHMARKS.md; the logic is
:mod:`stylenet.eval.quality`).

For every model and each of its styles: the mean content and style loss of its outputs on
``--num-photos`` held-out photos, the style loss of the photos themselves (what the model
starts from), and per photo the first of ``--iterations`` L-BFGS iteration counts at which
Gatys, run on the same loss from the photo and from noise (``--starts``), reaches the model's
loss (the run stops there).

    python scripts/quality_report.py                      # every shipped model
    python scripts/quality_report.py starry_night training/wave/checkpoints/last.ckpt \\
        --photos ../shared/data/coco/val2017 --num-photos 4 --size 256

Paintings are found by the file names stored in each model (``facts.style_images``; else by
style name) in ``--styles`` (default: the shared style folder).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from stylenet.data.images import list_images, read_image
from stylenet.eval.fast_vs_gatys import STARTS
from stylenet.eval.quality import HEADER, MATCH_ITERATIONS, TRAINING_STYLE_SIZE, evaluate
from stylenet.losses import PerceptualLoss
from stylenet.resources import config_dir, shared_data_dir
from stylenet.serve.loader import shipped_models


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
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
        "--iterations",
        type=int,
        nargs="+",
        default=list(MATCH_ITERATIONS),
        help="Gatys iteration counts tried for a match",
    )
    parser.add_argument(
        "--style-size", type=int, default=TRAINING_STYLE_SIZE, help="painting longest side"
    )
    parser.add_argument(
        "--starts", default=",".join(STARTS), help="Gatys starts: photo, noise or both"
    )
    args = parser.parse_args(argv)
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
        evaluate(
            model,
            photos,
            loss,
            styles_dir,
            repeats=args.repeats,
            iterations=args.iterations,
            starts=starts,
            style_size=args.style_size,
        )


if __name__ == "__main__":
    main()
