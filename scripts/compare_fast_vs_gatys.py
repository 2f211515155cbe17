"""Fast (feed-forward) style transfer vs Gatys optimisation: same loss, iterations, time.

For held-out photos, compute the content + style loss (one perceptual config, TV excluded)
of the fast model's output and of Gatys after 10/25/50/100/200/500 L-BFGS iterations, with
the time each took. Prints the first iteration count whose loss matches the fast model's and
the speedup (Johnson, Alahi and Fei-Fei 2016 report ~50–100 iterations and ~1000× on a GPU).

    python scripts/compare_fast_vs_gatys.py --model starry_night \
        --style ../shared/data/styles/starry_night.jpg --photos ../shared/data/coco/val2017

``--model``: a shipped model name, a training checkpoint (``.ckpt``), an exported ``.onnx``,
or a ``torch.save``d module made only of ``torch.nn`` layers, with the transformer contract
``N×3×H×W`` RGB 0–255 → same (see :func:`stylenet.eval.fast_models.load_fast_model`). Files
are read without running code from them: TorchScript, ``torch.export`` and modules of custom
classes are refused. The comparison is :mod:`stylenet.eval.fast_vs_gatys`. Both methods are
scored on the training loss (``--perceptual vgg19_caffe_fast``, style at 512 px) unless told
otherwise.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from stylenet.data.images import list_images, read_image
from stylenet.eval.fast_models import load_fast_model
from stylenet.eval.fast_vs_gatys import ITERATIONS, compare, report
from stylenet.losses import PerceptualLoss
from stylenet.resources import config_dir


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--model", required=True, help=".ckpt, .onnx, shipped name, TorchScript or saved module"
    )
    parser.add_argument("--style", required=True, help="the style image the model was trained on")
    parser.add_argument("--photos", required=True, help="folder of held-out photos")
    parser.add_argument("--num-photos", type=int, default=4)
    parser.add_argument("--size", type=int, default=256, help="photo longest side")
    parser.add_argument(
        "--perceptual",
        default="vgg19_caffe_fast",
        help="conf/perceptual/<name>.yaml: the loss both methods are scored (and Gatys run) on; "
        "default: the training loss",
    )
    parser.add_argument(
        "--style-size", type=int, default=512, help="style longest side (training uses 512)"
    )
    parser.add_argument(
        "--iterations",
        type=int,
        nargs="+",
        default=list(ITERATIONS),
        help="Gatys iteration counts to record",
    )
    args = parser.parse_args(argv)
    stylizer = load_fast_model(args.model)
    cfg = OmegaConf.load(Path(config_dir()) / "perceptual" / f"{args.perceptual}.yaml")
    loss: PerceptualLoss = instantiate(cfg, _convert_="all")
    loss.set_styles([read_image(args.style, max_side=args.style_size)])
    paths = list_images(args.photos)[: args.num_photos]
    photos = [read_image(p, max_side=args.size) for p in paths]
    print(
        f"{len(photos)} photos at {args.size} px, perceptual={args.perceptual}, "
        f"threads={torch.get_num_threads()}"
    )
    print(report(compare(stylizer, photos, loss, args.iterations)))


if __name__ == "__main__":
    main()
