"""Training-step speed: stylenet's step vs a plain fp32 step written like pytorch/examples.

Baseline (pytorch/examples' fast_neural_style, no tricks): fp32, contiguous (NCHW) tensors,
VGG-16 loss network up to relu4_3 (style relu1_2, relu2_2, relu3_3, relu4_3; content
relu2_2), Gram normalised by C·H·W, MSE losses, Adam. stylenet's step: the training config's
perceptual loss (VGG-19 truncated at its deepest loss layer), content targets under no_grad,
channels-last tensors and bf16 autocast. Same transformer network, same batch.

    python scripts/bench_train.py                       # ms/step, batch 4, 256 px
    python scripts/bench_train.py --loss-steps 200      # + loss curves, fp32 vs bf16

Timing uses random VGG weights of the right shapes (speed does not depend on the values);
the loss comparison uses the configured weights (vgg19_caffe, bundled).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir

from stylenet.cli.config import build
from stylenet.data.images import list_images, read_image
from stylenet.data.photos import center_crop
from stylenet.lit.style_module import StyleTransferModule
from stylenet.losses import PerceptualLoss
from stylenet.nn.transformer import TransformerNet
from stylenet.nn.vgg import VGGFeatures
from stylenet.provenance import describe_cpu, read_cpuinfo
from stylenet.resources import config_dir, shared_data_dir

BASELINE_STYLE = ["relu1_2", "relu2_2", "relu3_3", "relu4_3"]
BASELINE_CONTENT = "relu2_2"


def baseline_gram(y: torch.Tensor) -> torch.Tensor:
    b, ch, h, w = y.size()
    features = y.view(b, ch, w * h)
    return features.bmm(features.transpose(1, 2)) / (ch * h * w)


def baseline_step(batch: int, size: int) -> Callable[[], float]:
    """One pytorch/examples-style training step (fp32, NCHW, VGG-16)."""
    net = TransformerNet()
    vgg = VGGFeatures(BASELINE_STYLE, weights="random_vgg16")
    optimizer = torch.optim.Adam(net.parameters(), 1e-3)
    style = torch.rand(1, 3, size, size)
    gram_style = [baseline_gram(f) for f in vgg(style).values()]
    x = torch.rand(batch, 3, size, size) * 255

    def step() -> float:
        optimizer.zero_grad()
        y = net(x)
        features_y = vgg(y / 255)
        features_x = vgg(x / 255)
        content = 1e5 * F.mse_loss(features_y[BASELINE_CONTENT], features_x[BASELINE_CONTENT])
        style_loss = sum(
            F.mse_loss(baseline_gram(fy), gs.expand(batch, -1, -1))
            for fy, gs in zip(features_y.values(), gram_style, strict=True)
        )
        total = content + 1e10 * style_loss
        total.backward()
        optimizer.step()
        return total.item()

    return step


def training_config(*overrides: str):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(config_name="train", overrides=list(overrides))


def style_image() -> torch.Tensor:
    """The default training style's painting (random pixels when it is not available)."""
    path = Path(str(training_config().painting.image))
    return read_image(path, max_side=512) if path.is_file() else torch.rand(3, 512, 512)


def stylenet_module(
    weights: str | None, size: int, channels_last: bool, style: torch.Tensor | None = None
) -> StyleTransferModule:
    """The module the training command builds (its perceptual config and one style), on the
    full-width network the baseline uses."""
    cfg = training_config("net=johnson")
    overrides = {"weights": weights} if weights else {}
    loss: PerceptualLoss = build(cfg.perceptual, _convert_="all", **overrides)
    loss.set_styles([torch.rand(3, size, size) if style is None else style])
    net = build(cfg.net)
    return StyleTransferModule(net, loss, ["bench"], lr=float(cfg.lr), channels_last=channels_last)


def stylenet_step(
    module: StyleTransferModule,
    photos: torch.Tensor,
    dtype: torch.dtype | None,
    optimizer: torch.optim.Optimizer | None = None,
) -> Callable[[], float]:
    """One training step of ``module`` on ``photos`` (under autocast when ``dtype`` is set)."""
    optimizer = optimizer or module.configure_optimizers()

    def step() -> float:
        optimizer.zero_grad()
        with torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
            terms, _ = module.compute_loss(photos, None)
            total = terms.total.mean()
        total.backward()
        optimizer.step()
        return total.item()

    return step


def median_ms(steps: dict[str, Callable[[], float]], warmup: int, repeats: int) -> dict[str, float]:
    """Median ms per call of each step, measured round-robin so load drifts hit all alike."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def photo_batches(folder: str | None, batch: int, size: int, count: int = 8) -> list[torch.Tensor]:
    """``count`` batches of centre crops from ``folder`` (random pixels when there is none)."""
    if folder is None or not Path(folder).is_dir():
        print("no photo folder: random-pixel batches")
        return [torch.rand(batch, 3, size, size) for _ in range(count)]
    files = list_images(folder)[: batch * count]
    crops = [center_crop(read_image(f), size) for f in files]
    return [torch.stack(crops[i : i + batch]) for i in range(0, len(crops) - batch + 1, batch)]


def loss_curves(steps: int, batch: int, size: int, folder: str | None) -> None:
    """fp32 vs bf16 training from the same start on the same photos: mean loss per 50 steps."""
    photos = photo_batches(folder, batch, size)
    curves = {}
    for name, dtype in (("fp32", None), ("bf16", torch.bfloat16)):
        torch.manual_seed(0)
        module = stylenet_module(None, size, channels_last=True, style=style_image())
        optimizer = module.configure_optimizers()
        step_fns = [stylenet_step(module, p, dtype, optimizer) for p in photos]
        curves[name] = [step_fns[i % len(photos)]() for i in range(steps)]
    print(f"\nloss, fp32 vs bf16 autocast ({steps} steps, batch {batch}, {size} px):")
    for start in range(0, steps, 50):
        a = statistics.mean(curves["fp32"][start : start + 50])
        b = statistics.mean(curves["bf16"][start : start + 50])
        print(
            f"  steps {start:4d}-{start + 49:4d}: fp32 {a:.4g}  bf16 {b:.4g}  diff {b / a - 1:+.1%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--loss-steps", type=int, default=0, help="also compare loss curves")
    parser.add_argument("--no-timing", action="store_true", help="only the loss curves")
    parser.add_argument("--photos", default=shared_data_dir("coco/train2017"), help="photo folder")
    args = parser.parse_args()
    if not args.no_timing:
        time_steps(args)
    if args.loss_steps:
        loss_curves(args.loss_steps, args.batch, args.size, args.photos)


def time_steps(args: argparse.Namespace) -> None:
    """ms/step of the baseline and of stylenet's step with each optimisation added."""
    torch.manual_seed(0)
    photos = torch.rand(args.batch, 3, args.size, args.size)
    rows = {"baseline fp32 (pytorch/examples-style, VGG-16)": baseline_step(args.batch, args.size)}
    for name, channels_last, dtype in (
        ("stylenet fp32", False, None),
        ("stylenet fp32 + channels_last", True, None),
        ("stylenet bf16 + channels_last", True, torch.bfloat16),
    ):
        module = stylenet_module("random", args.size, channels_last)
        rows[name] = stylenet_step(module, photos, dtype)
    cpu = describe_cpu(read_cpuinfo())
    print(f"batch {args.batch}, {args.size} px, {torch.get_num_threads()} threads, {cpu}")
    medians = median_ms(rows, args.warmup, args.repeats)
    base = next(iter(medians.values()))
    for name, ms in medians.items():
        print(f"  {name:50s} {ms:8.0f} ms/step  {base / ms:5.2f}x")


if __name__ == "__main__":
    main()
