"""Style/content trade-off of the arbitrary-style network against the shipped models.

    python scripts/arbitrary_tradeoff.py                    # every shared painting
    python scripts/arbitrary_tradeoff.py --num-photos 4 --size 256 --out docs/arbitrary_tradeoff.png

For every painting in the shared style folder, on held-out photos: each arbitrary-style network
(``--networks``; WCT at strengths 0, 0.25, 0.5, 0.75, 1 (a curve from top left) and AdaIN at 1) and every shipped model trained on that
painting (single-style models, and multi_style's style of that name). Each point is the mean
over the photos of the project's perceptual loss (``--perceptual``, the painting at 512 px):
the content loss, and the style loss as a share of the photo's own style loss (1 = the photo
unchanged, lower = closer to the painting; a share, so paintings with different style weights
compare). Prints a Markdown table and draws one chart per painting into ``--out``.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from stylenet.data.chart import chart_sheet, line_chart
from stylenet.data.images import list_images, read_image
from stylenet.eval.fast_vs_gatys import loss_terms
from stylenet.losses import PerceptualLoss
from stylenet.resources import config_dir, shared_data_dir, shipped_models_dir
from stylenet.serve.arbitrary import ArbitraryNetwork, PaintingStylizer
from stylenet.serve.loader import load_stylizer, shipped_models
from stylenet.serve.stylizer import Stylizer
from stylenet.styles import one_hot

STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)
NETWORKS = ("arbitrary", "arbitrary_wide")  # the shipped arbitrary-style networks (folders)
STYLE_SIZE = 512


def style_name(painting: Path) -> str:
    """``woman-with-hat-matisse.jpg`` → ``woman_with_hat`` (the shipped models' names)."""
    name = painting.stem.replace("-", "_")
    return name.removesuffix("_matisse")


def arbitrary_folder(name: str) -> Path:
    """A model folder, or the shipped arbitrary-style network of that name."""
    folder = Path(name)
    return folder if folder.is_dir() else shipped_models_dir() / name


def score(
    stylizer: Stylizer, photos: list[torch.Tensor], loss: PerceptualLoss, row: np.ndarray | None
) -> tuple[float, float]:
    """Mean (content loss, style loss / the photo's own) of ``stylizer`` on ``photos``."""
    contents, shares = [], []
    for photo in photos:
        batch = (photo[None] * 255).numpy().astype(np.float32)
        out = torch.from_numpy(stylizer(batch, row)) / 255
        content, style = loss_terms(loss, out, photo[None])
        _, own = loss_terms(loss, photo[None], photo[None])
        contents.append(content)
        shares.append(style / own)
    return statistics.mean(contents), statistics.mean(shares)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", default=None, help="held-out photos (default: coco/val2017)")
    parser.add_argument("--styles", default=None, help="paintings (default: the shared styles)")
    parser.add_argument("--num-photos", type=int, default=4)
    parser.add_argument("--size", type=int, default=256, help="photo longest side")
    parser.add_argument("--perceptual", default="vgg19_caffe_fast", help="the scoring loss")
    parser.add_argument("--out", type=Path, default=Path("docs/arbitrary_tradeoff.png"))
    parser.add_argument(
        "--networks", nargs="+", default=list(NETWORKS), help="arbitrary-style model folders"
    )
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    photos_dir = Path(args.photos or shared_data_dir("coco/val2017"))
    paintings = sorted(Path(args.styles or shared_data_dir("styles")).glob("*.jpg"))
    photos = [read_image(p, max_side=args.size) for p in list_images(photos_dir)[: args.num_photos]]
    cfg = OmegaConf.load(Path(config_dir()) / "perceptual" / f"{args.perceptual}.yaml")
    loss: PerceptualLoss = instantiate(cfg, _convert_="all")
    networks = {
        Path(name).name: ArbitraryNetwork(
            arbitrary_folder(name), providers=["CPUExecutionProvider"]
        )
        for name in args.networks
    }
    models = {name: load_stylizer(name) for name in shipped_models()}
    print(f"{len(photos)} photos of {photos_dir} at {args.size} px, perceptual={args.perceptual}")
    print("\n| painting | model | content loss | style loss / photo's |\n|---|---|---|---|")
    charts = []
    for painting in paintings:
        loss.set_styles([read_image(painting, STYLE_SIZE)])
        series: dict[str, list[tuple[float, float]]] = {}
        for label, network in networks.items():
            stats = network.painting(painting)
            curve = series.setdefault(f"{label} WCT", [])
            for strength in STRENGTHS:
                stylizer = PaintingStylizer(network, stats, strength=strength)
                point = score(stylizer, photos, loss, None)
                curve.append(point)
                print(
                    f"| {painting.stem} | {label} WCT, strength {strength:g} | {point[0]:.2f} | "
                    f"{point[1]:.3f} |"
                )
            adain = PaintingStylizer(network, stats, transform="adain")
            point = score(adain, photos, loss, None)
            series[f"{label} AdaIN"] = [point]
            print(f"| {painting.stem} | {label} AdaIN | {point[0]:.2f} | {point[1]:.3f} |")
        for name, model in models.items():
            if style_name(painting) not in model.styles:
                continue
            row = (
                one_hot(model.styles, style_name(painting))[None] if len(model.styles) > 1 else None
            )
            point = score(model, photos, loss, row)
            series[name] = [point]
            print(f"| {painting.stem} | {name} | {point[0]:.2f} | {point[1]:.3f} |")
        charts.append(
            line_chart(
                series,
                title=painting.stem,
                x_label="content loss",
                y_label="style loss / photo's",
                size=(560, 400),
                font_size=12,
            )
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    chart_sheet(charts).save(args.out)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
