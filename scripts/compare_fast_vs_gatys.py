"""Fast (feed-forward) style transfer vs Gatys optimisation: same loss, iterations, time.

For held-out photos, compute the content + style loss (one perceptual config, TV excluded)
of the fast model's output and of Gatys after 10/25/50/100/200/500 L-BFGS iterations, with
the time each took. Prints the first iteration count whose loss matches the fast model's and
the speedup (Johnson, Alahi and Fei-Fei 2016 report ~50–100 iterations and ~1000× on a GPU).

    python scripts/compare_fast_vs_gatys.py --model starry_night \
        --style ../shared/data/styles/starry_night.jpg --photos ../shared/data/coco/val2017

``--model``: a shipped model name, a training checkpoint (``.ckpt``), an exported ``.onnx``,
or a ``torch.save``d module made only of ``torch.nn`` layers, with the transformer contract
``N×3×H×W`` RGB 0–255 → same (see :func:`load_fast_model`). Files are read without running
code from them: TorchScript, ``torch.export`` and modules of custom classes are refused. Both methods are scored on the
training loss (``--perceptual vgg19_caffe_fast``, style at 512 px) unless told otherwise.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from stylenet.config import config_dir
from stylenet.data.images import list_images, read_image
from stylenet.errors import ModelFileError
from stylenet.losses import PerceptualLoss
from stylenet.methods.fast_vs_gatys import Comparison, FastStylizer, compare
from stylenet.nn.model_files import read_module
from stylenet.serve.loader import load_stylizer

FAST_INSTEAD = (
    "give the training checkpoint (.ckpt), the exported .onnx, a shipped model name, or a "
    "module made only of torch.nn layers saved with torch.save(module, path)"
)


def load_fast_model(path: str | Path) -> FastStylizer:
    """A stylizer ``N×3×H×W`` RGB 0–255 → same from a file read without running its code.

    Training checkpoints (``.ckpt``), exported ONNX models and shipped model names go through
    :func:`stylenet.serve.loader.load_stylizer`; other files must hold a whole module of
    ``torch.nn`` layers (:func:`stylenet.nn.model_files.read_module`).
    """
    if Path(path).suffix.lower() in (".ckpt", ".onnx") or not Path(path).suffix:
        stylizer = load_stylizer(str(path), device="cpu")
        return lambda batch: torch.from_numpy(stylizer(batch.detach().cpu().numpy()))
    file = Path(path)
    if not file.is_file():
        raise ModelFileError(f"fast model not found: {file} (give --model PATH)")
    module = read_module(file, instead=FAST_INSTEAD)
    if not isinstance(module, torch.nn.Module):
        raise ModelFileError(f"{file} holds a state_dict, not an nn.Module; {FAST_INSTEAD}")
    module.eval()

    def stylize(batch: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return module(batch)

    return stylize


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        required=True,
        help=".ckpt, .onnx, shipped name or a saved module of torch.nn layers",
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
    args = parser.parse_args()
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
    print(report(compare(stylizer, photos, loss)))


if __name__ == "__main__":
    main()
