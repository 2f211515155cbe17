"""Gatys with and without the L-BFGS range penalty: content + style loss of the clamped result
after each of ``--checkpoints`` iterations (for docs/BENCHMARKS.md).

Unconstrained L-BFGS lets pixels drift outside [0, 1]; the image a user gets is clamped, and
its loss can rise late in a run although the optimiser's own loss keeps falling. Each run
starts from the photo and minimises the training loss (``vgg19_caffe_fast`` by default); the
score excludes TV and the penalty itself.

    python scripts/measure_range_penalty.py --weights 0,1000,5000 --photos 0,2
    python scripts/measure_range_penalty.py --style PAINTING --photo-dir DIR --size 256
    python scripts/measure_range_penalty.py --invert-layers relu3_1,relu4_1,relu5_1

``--invert-layers`` measures feature inversion instead: the normalised feature error of the
clamped reconstruction after 200 L-BFGS iterations from noise (``stylenet-invert`` defaults).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from stylenet.data.images import list_images, read_image
from stylenet.eval.fast_vs_gatys import loss_terms
from stylenet.losses import PerceptualLoss
from stylenet.methods.gatys import GatysObjective
from stylenet.methods.invert import feature_objective, invert_layer
from stylenet.methods.optimize import optimize_image
from stylenet.nn.vgg import VGGFeatures
from stylenet.resources import config_dir, shared_data_dir

CHECKPOINTS = (10, 25, 50, 100, 200, 300, 500)


def clamped_curve(
    loss: PerceptualLoss, photo: torch.Tensor, range_weight: float, checkpoints: list[int]
) -> dict[int, float]:
    """Content + style of the clamped iterate after each checkpoint, one L-BFGS run from the
    ``1×3×H×W`` photo with ``range_weight`` (relative, see ``optimize_image``)."""
    wanted, curve = set(checkpoints), {}

    def record(step: int, image: torch.Tensor) -> None:
        if step in wanted:
            curve[step] = sum(loss_terms(loss, image, photo))

    objective = GatysObjective(loss, loss.content_targets(photo))
    optimize_image(
        objective,
        photo,
        iterations=max(checkpoints),
        on_step=record,
        desc="gatys",
        range_weight=range_weight,
    )
    return curve


def inversion_error(
    photo: torch.Tensor, layer: str, range_weight: float, iterations: int = 200
) -> float:
    """Normalised ``layer`` feature error of the clamped inversion of the ``1×3×H×W`` photo
    (VGG-19 Caffe weights, TV weight 0.05, β = 2: the ``stylenet-invert`` defaults)."""
    vgg = VGGFeatures([layer], weights="vgg19_caffe")
    result = invert_layer(
        vgg,
        photo,
        layer,
        iterations=iterations,
        tv_weight=0.05,
        tv_beta=2.0,
        progress=True,
        range_weight=range_weight,
    )
    with torch.no_grad():
        target = vgg(photo)[layer].float()
        return float(feature_objective(vgg, target, layer, 0.0, 2.0)(result.image)["feature"])


def table(curves: dict[tuple[str, float], dict[int, float]], checkpoints: list[int]) -> str:
    """Markdown: a row per (photo, weight), a column per checkpoint."""
    lines = [
        "| photo | range_weight | " + " | ".join(f"{c} it" for c in checkpoints) + " |",
        "|---|---:|" + "---:|" * len(checkpoints),
    ]
    for (photo, weight), curve in curves.items():
        cells = " | ".join(f"{curve[c]:.4g}" for c in checkpoints)
        lines.append(f"| {photo} | {weight:g} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", default=None, help="default: the shared starry_night.jpg")
    parser.add_argument("--photo-dir", default=None, help="default: the shared coco/val2017")
    parser.add_argument("--photos", default="0", help="indices into the sorted photo folder")
    parser.add_argument("--weights", default="0,1000", help="relative range weights to compare")
    parser.add_argument("--checkpoints", default=",".join(map(str, CHECKPOINTS)))
    parser.add_argument("--size", type=int, default=256, help="photo longest side")
    parser.add_argument("--perceptual", default="vgg19_caffe_fast")
    parser.add_argument("--invert-layers", default=None, help="measure feature inversion")
    args = parser.parse_args()
    if args.invert_layers:
        invert_report(args)
        return
    style = args.style or Path(shared_data_dir("styles")) / "starry_night.jpg"
    paths = list_images(args.photo_dir or shared_data_dir("coco/val2017"))
    checkpoints = sorted(int(c) for c in args.checkpoints.split(","))
    cfg = OmegaConf.load(Path(config_dir()) / "perceptual" / f"{args.perceptual}.yaml")
    loss: PerceptualLoss = instantiate(cfg, _convert_="all")
    loss.set_styles([read_image(style, max_side=512)])
    curves = {}
    for index in (int(i) for i in args.photos.split(",")):
        photo = read_image(paths[index], max_side=args.size)[None]
        for weight in (float(w) for w in args.weights.split(",")):
            curves[(paths[index].name, weight)] = clamped_curve(loss, photo, weight, checkpoints)
    print(
        f"{args.perceptual}, style {Path(style).name}, {args.size} px, threads {torch.get_num_threads()}"
    )
    print(table(curves, checkpoints))


def invert_report(args: argparse.Namespace) -> None:
    """Feature-inversion errors: a row per (layer, weight) for the first ``--photos`` photo."""
    paths = list_images(args.photo_dir or shared_data_dir("coco/val2017"))
    path = paths[int(args.photos.split(",")[0])]
    photo = read_image(path, max_side=args.size)[None]
    print(f"{path.name}, {args.size} px, threads {torch.get_num_threads()}")
    print("| layer | range_weight | feature error of the clamped result |\n|---|---:|---:|")
    for layer in args.invert_layers.split(","):
        for weight in (float(w) for w in args.weights.split(",")):
            print(f"| {layer} | {weight:g} | {inversion_error(photo, layer, weight):.4f} |")


if __name__ == "__main__":
    main()
