"""Fast (feed-forward) style transfer vs Gatys optimisation: same loss, iterations, time.

For held-out photos, compute the content + style loss (one perceptual config, TV excluded)
of the fast model's output and of Gatys after 10/25/50/100/200/500 L-BFGS iterations, with
the time each took. Prints the first iteration count whose loss matches the fast model's and
the speedup (Johnson, Alahi and Fei-Fei 2016 report ~50–100 iterations and ~1000× on a GPU).

    python scripts/compare_fast_vs_gatys.py --model fast.pt --style painting.jpg \
        --photos /path/to/held_out --num-photos 4 --size 256

``--model``: a TorchScript file or a ``torch.save``d ``nn.Module`` with the transformer
contract ``N×3×H×W`` RGB 0–255 → same (see :func:`load_fast_model`).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from stylenet.config import config_dir
from stylenet.data.images import list_images, read_image
from stylenet.errors import ModelFileError
from stylenet.losses import PerceptualLoss
from stylenet.methods.gatys import GatysObjective
from stylenet.methods.optimize import optimize_image
from stylenet.serve.loader import load_stylizer

Stylizer = Callable[[torch.Tensor], torch.Tensor]
CHECKPOINTS = (10, 25, 50, 100, 200, 500)


def load_fast_model(path: str | Path) -> Stylizer:
    """A stylizer ``N×3×H×W`` RGB 0–255 → same from a TorchScript file, a ``torch.export``
    archive (``.pt2``) or a ``torch.save``d ``nn.Module``.

    Training checkpoints (``.ckpt``), exported ONNX models and shipped model names go through
    :func:`stylenet.serve.loader.load_stylizer`.
    """
    if Path(path).suffix.lower() in (".ckpt", ".onnx") or not Path(path).suffix:
        stylizer = load_stylizer(str(path), device="cpu")
        return lambda batch: stylizer(batch)
    file = Path(path)
    if not file.is_file():
        raise ModelFileError(f"fast model not found: {file} (give --model PATH)")
    try:
        if file.suffix == ".pt2":  # torch.export archive
            module = torch.export.load(str(file)).module()
        else:
            with warnings.catch_warnings():  # TorchScript is deprecated but still loads
                warnings.simplefilter("ignore", FutureWarning)
                module = torch.jit.load(str(file), map_location="cpu")
    except RuntimeError:
        try:
            module = torch.load(file, map_location="cpu", weights_only=False)
        except Exception as error:
            raise ModelFileError(
                f"cannot load {file} as TorchScript or a saved nn.Module ({type(error).__name__})"
            ) from None
    if not isinstance(module, torch.nn.Module):
        raise ModelFileError(
            f"{file} holds a {type(module).__name__}, not an nn.Module; save the whole module"
        )
    module.eval()

    def stylize(batch: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return module(batch)

    return stylize


@dataclass
class Comparison:
    """Mean loss and median seconds: the fast model, and Gatys at each iteration count."""

    fast_loss: float
    fast_seconds: float
    gatys_loss: dict[int, float] = field(default_factory=dict)
    gatys_seconds: dict[int, float] = field(default_factory=dict)

    def matching_iterations(self) -> int | None:
        """The first iteration count whose Gatys loss is <= the fast model's (None: never)."""
        return next((k for k, v in sorted(self.gatys_loss.items()) if v <= self.fast_loss), None)

    def speedup(self) -> float | None:
        """Gatys time to match the fast loss / fast model time."""
        match = self.matching_iterations()
        return None if match is None else self.gatys_seconds[match] / self.fast_seconds


def content_style_loss(loss: PerceptualLoss, image: torch.Tensor, content: torch.Tensor) -> float:
    """Content + style loss (no TV) of ``1×3×H×W`` ``image`` for photo ``content``."""
    with torch.no_grad():
        terms = loss(image.clamp(0, 1), content)
    return float((terms.content + terms.style).sum())


def gatys_curve(
    loss: PerceptualLoss, content: torch.Tensor, checkpoints: Sequence[int]
) -> tuple[dict[int, float], dict[int, float]]:
    """Loss and optimisation seconds after each checkpoint of ONE L-BFGS run from the photo."""
    wanted = set(checkpoints)
    losses: dict[int, float] = {}
    seconds: dict[int, float] = {}
    excluded = [0.0]  # time spent measuring, not optimising
    start = time.perf_counter()

    def record(step: int, image: torch.Tensor) -> None:
        if step in wanted:
            now = time.perf_counter()
            seconds[step] = now - start - excluded[0]
            losses[step] = content_style_loss(loss, image, content)
            excluded[0] += time.perf_counter() - now

    objective = GatysObjective(loss, loss.content_targets(content))
    optimize_image(objective, content, max(checkpoints), "lbfgs", None, record, "gatys", False)
    return losses, seconds


def compare(
    stylizer: Stylizer,
    photos: Sequence[torch.Tensor],
    loss: PerceptualLoss,
    checkpoints: Sequence[int] = CHECKPOINTS,
    repeats: int = 3,
) -> Comparison:
    """Compare ``stylizer`` with Gatys on ``photos`` (each ``3×H×W`` in [0, 1]).

    ``loss`` must have its style set. Fast time: median of ``repeats`` after one warm-up.
    """
    fast_losses, fast_times = [], []
    curves = []
    for photo in photos:
        batch = photo[None]
        stylizer(batch * 255)  # warm-up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            out = stylizer(batch * 255)
            times.append(time.perf_counter() - start)
        fast_times.append(statistics.median(times))
        fast_losses.append(content_style_loss(loss, out / 255, batch))
        curves.append(gatys_curve(loss, batch, checkpoints))
    result = Comparison(statistics.mean(fast_losses), statistics.median(fast_times))
    for k in checkpoints:
        result.gatys_loss[k] = statistics.mean(c[0][k] for c in curves)
        result.gatys_seconds[k] = statistics.median(c[1][k] for c in curves)
    return result


def report(result: Comparison) -> str:
    """A Markdown table plus the match/speedup line."""
    lines = ["| method | content+style loss | seconds/image |", "|---|---|---|"]
    lines.append(f"| fast model | {result.fast_loss:.4g} | {result.fast_seconds:.3f} |")
    for k, v in result.gatys_loss.items():
        lines.append(f"| Gatys {k} it | {v:.4g} | {result.gatys_seconds[k]:.2f} |")
    match = result.matching_iterations()
    if match is None:
        lines.append(f"\nGatys did not reach the fast model's loss in {max(result.gatys_loss)} it.")
    else:
        lines.append(
            f"\nfast loss matched by Gatys at {match} iterations; speedup {result.speedup():.0f}×"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", required=True, help=".ckpt, .onnx, shipped name, TorchScript or saved module"
    )
    parser.add_argument("--style", required=True, help="the style image the model was trained on")
    parser.add_argument("--photos", required=True, help="folder of held-out photos")
    parser.add_argument("--num-photos", type=int, default=4)
    parser.add_argument("--size", type=int, default=256, help="photo longest side")
    parser.add_argument("--perceptual", default="vgg19_caffe", help="conf/perceptual/<name>.yaml")
    parser.add_argument("--style-size", type=int, default=256, help="style longest side")
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
