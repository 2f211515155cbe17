"""How hard each painting pulls a network away from photos, and the style weight that evens it out.

A painting close to ordinary photos (low style loss of the photos themselves) gives the
transformer a weak gradient at the shared style weight and can come out as a mere tint. This
script scores ``--num-photos`` photos against every painting (mean weighted style loss, at the
perceptual config's style weight) and suggests a per-painting weight so that each starts from
the same pull as ``--reference``, times ``--headroom``:

    weight = base weight x (photo style loss vs reference / photo style loss) x headroom

The reference keeps the base weight (its strength was judged from its trained model). The
suggestions are what ``conf/painting/*.yaml: style_weight`` are set from; the reference's pull
× headroom is ``conf/train.yaml: auto_style_weight.pull``, the pull that
``painting.style_weight=auto`` gives a new painting at training start
(:mod:`stylenet.eval.style_pull`).

    python scripts/style_pull.py                        # shared styles/ and coco/train2017
    python scripts/style_pull.py --styles my_paintings/ --reference starry_night
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from stylenet.data.images import list_images, read_image
from stylenet.eval.style_pull import style_pull
from stylenet.losses import PerceptualLoss
from stylenet.resources import config_dir, shared_data_dir

TRAINING_STYLE_SIZE = 512  # conf/painting/*.yaml: size


@dataclass
class Pull:
    painting: str
    photo_style: float  # mean weighted style loss of the photos against the painting


def measure(
    paintings: Sequence[Path], photos: Sequence[torch.Tensor], loss: PerceptualLoss
) -> list[Pull]:
    """Mean style loss of ``photos`` (each ``3×H×W`` in [0, 1]) against each painting."""
    pulls = []
    for painting in paintings:
        loss.set_styles([read_image(painting, TRAINING_STYLE_SIZE)])
        pulls.append(Pull(painting.stem, style_pull(loss, photos)))
    return pulls


def suggested_weights(
    pulls: Sequence[Pull], reference: str, base_weight: float, headroom: float
) -> dict[str, float]:
    """Per painting: ``base_weight × ref_loss / loss × headroom`` (the reference: ``base_weight``)."""
    by_name = {p.painting: p.photo_style for p in pulls}
    if reference not in by_name:
        raise ValueError(f"reference painting {reference!r} is not among {sorted(by_name)}")
    return {
        name: base_weight
        if name == reference
        else base_weight * by_name[reference] / loss * headroom
        for name, loss in by_name.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", default=None, help="the paintings (default: shared styles/)")
    parser.add_argument("--photos", default=None, help="photos (default: coco/train2017)")
    parser.add_argument("--num-photos", type=int, default=16)
    parser.add_argument("--size", type=int, default=256, help="photo longest side")
    parser.add_argument("--reference", default="starry_night", help="painting judged by eye")
    parser.add_argument("--headroom", type=float, default=1.3, help="extra pull for the others")
    parser.add_argument("--perceptual", default="vgg19_caffe_fast", help="the training loss")
    args = parser.parse_args()
    styles_dir = Path(args.styles or shared_data_dir("styles"))
    photos_dir = Path(args.photos or shared_data_dir("coco/train2017"))
    photos = [read_image(p, max_side=args.size) for p in list_images(photos_dir)[: args.num_photos]]
    cfg = OmegaConf.load(Path(config_dir()) / "perceptual" / f"{args.perceptual}.yaml")
    loss: PerceptualLoss = instantiate(cfg, _convert_="all")
    pulls = measure(list_images(styles_dir), photos, loss)
    weights = suggested_weights(pulls, args.reference, float(cfg.style_weight), args.headroom)
    print(
        f"{len(photos)} photos of {photos_dir} at {args.size} px, perceptual={args.perceptual} "
        f"(style weight {cfg.style_weight}), reference {args.reference}, headroom {args.headroom}"
        "\n\n| painting | style loss of the photos | suggested style_weight |\n|---|---|---|"
    )
    for pull in sorted(pulls, key=lambda p: p.photo_style):
        print(f"| {pull.painting} | {pull.photo_style:.3g} | {weights[pull.painting]:.1f} |")
    reference_pull = next(p.photo_style for p in pulls if p.painting == args.reference)
    print(
        f"\nauto_style_weight.pull (the reference's pull x headroom): "
        f"{reference_pull * args.headroom:.3g}"
    )


if __name__ == "__main__":
    main()
