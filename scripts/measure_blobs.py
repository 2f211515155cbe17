"""Blob score of trained networks: round smudges on flat regions that are not in the photo.

For every checkpoint and each of its styles, stylizes synthetic flat inputs (a sky-blue field
and a grey ramp, both with mild sensor noise) and ``--photos`` val2017 photos, and prints

- ``blob %``: the mean :func:`stylenet.methods.blobs.blob_score` (share of pooled pixels that
  are a smudge the photo does not explain), synthetic and photo inputs separately;
- ``peak σ``: the largest instance-normalised activation over the network's norm layers
  (:func:`stylenet.methods.blobs.normalized_peaks`), max over the inputs;
- with ``--clamp K``: the same with every norm layer's output clamped to ``β ± K·|γ|``
  (normalised values limited to ``±K``), an inference-time fix needing no retraining.

    python scripts/measure_blobs.py                                  # all shipped checkpoints
    python scripts/measure_blobs.py --checkpoints training/multi_style/checkpoints/last.ckpt \\
        --styles starry_night the_scream wave --clamp 4 --grid /tmp/blobs.png

The scores are deterministic (fixed seed, no timing), so no repeats are needed.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

from stylenet.data.images import list_images, read_image, resize, save_image
from stylenet.methods.blobs import blob_score, normalized_peaks
from stylenet.nn.checkpoint import load_transformer
from stylenet.nn.norms import ConditionalInstanceNorm2d, InstanceNorm
from stylenet.nn.transformer import ConvNormAct, TransformerNet
from stylenet.resources import shared_data_dir

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--checkpoints",
        nargs="*",
        type=Path,
        default=None,
        help="default: training/*/checkpoints/last.ckpt",
    )
    parser.add_argument("--styles", nargs="*", default=None, help="default: all of a model's")
    parser.add_argument("--photos", type=int, default=6, help="val2017 photos (sorted names)")
    parser.add_argument("--photo-dir", type=Path, default=None)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--clamp", type=float, default=None)
    parser.add_argument("--grid", type=Path, default=None, help="PNG of inputs and outputs")
    return parser.parse_args(argv)


def synthetic_inputs(size: int, *, seed: int = 0) -> list[torch.Tensor]:
    """A noisy sky-blue field and a noisy vertical grey ramp, ``1×3×size×size`` in [0, 255]."""
    generator = torch.Generator().manual_seed(seed)
    sky = torch.tensor([120.0, 170.0, 230.0])[:, None, None].expand(3, size, size)
    ramp = (60.0 + 150.0 * torch.linspace(0, 1, size))[None, :, None].expand(3, size, size)
    return [
        (base + 3.0 * torch.randn(3, size, size, generator=generator)).clamp(0, 255)[None]
        for base in (sky, ramp)
    ]


def photo_inputs(folder: Path, count: int, size: int) -> list[torch.Tensor]:
    """The first ``count`` photos of ``folder`` (sorted), resized to ``size×size``, in [0, 255]."""
    if count == 0 or not folder.is_dir():
        return []
    return [
        255.0 * resize(read_image(p), size=(size, size))[None] for p in list_images(folder)[:count]
    ]


@contextlib.contextmanager
def clamped_norms(net: nn.Module, limit: float) -> Iterator[None]:
    """Clamp every norm layer's output to ``β ± limit·|γ|`` while inside (hooks removed after)."""

    def hook(module: nn.Module, inputs: tuple, out: torch.Tensor) -> torch.Tensor:
        if isinstance(module, ConditionalInstanceNorm2d):
            weights = (
                inputs[1]
                if len(inputs) > 1 and inputs[1] is not None
                else out.new_ones(out.shape[0], 1)
            )
            gamma, beta = weights @ module.gamma, weights @ module.beta
        elif isinstance(module, InstanceNorm):
            gamma = module.norm.weight.expand(out.shape[0], -1)
            beta = module.norm.bias.expand(out.shape[0], -1)
        else:
            return out
        span = (limit * gamma.abs())[:, :, None, None]
        centre = beta[:, :, None, None]
        return torch.maximum(torch.minimum(out, centre + span), centre - span)

    handles = [
        m.norm.register_forward_hook(hook)
        for m in net.modules()
        if isinstance(m, ConvNormAct) and m.norm is not None
    ]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def measure(
    net: TransformerNet, weights: torch.Tensor | None, inputs: list[torch.Tensor]
) -> tuple[list[float], float, list[torch.Tensor]]:
    """Per-input blob scores, the max normalised peak, and the outputs."""
    scores, peaks, outputs = [], 0.0, []
    with torch.no_grad():
        for image in inputs:
            out = net(image, weights) if weights is not None else net(image)
            scores.append(float(blob_score(out, image)[0]))
            peaks = max(peaks, max(normalized_peaks(net, image, weights).values()))
            outputs.append(out)
    return scores, peaks, outputs


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.manual_seed(0)
    files = args.checkpoints or sorted((ROOT / "training").glob("*/checkpoints/last.ckpt"))
    folder = args.photo_dir or Path(shared_data_dir("coco/val2017"))
    synthetic = synthetic_inputs(args.size)
    photos = photo_inputs(folder, args.photos, args.size)
    inputs = synthetic + photos
    print(f"inputs: 2 synthetic + {len(photos)} photos from {folder}, {args.size} px")
    print(f"{'model':<22}{'style':<16}{'synth blob %':>13}{'photo blob %':>13}{'peak σ':>8}")
    rows = [torch.cat(inputs, dim=3)]
    for file in files:
        net, info = load_transformer(file)
        net.eval()
        styles = info.styles if net.is_multi_style else info.styles[:1]
        for style in [
            s for s in styles if args.styles is None or s in args.styles or len(styles) == 1
        ]:
            weights = None
            if net.is_multi_style:
                weights = torch.zeros(1, len(info.styles))
                weights[0, info.styles.index(style)] = 1.0
            variants = [("", contextlib.nullcontext())]
            if args.clamp is not None:
                variants.append((f" clamp {args.clamp:g}", clamped_norms(net, args.clamp)))
            for label, context in variants:
                with context:
                    scores, peak, outputs = measure(net, weights, inputs)
                synth = 100 * sum(scores[:2]) / 2
                real = 100 * sum(scores[2:]) / max(1, len(scores) - 2)
                name = file.parent.parent.name + label
                print(f"{name:<22}{style:<16}{synth:>13.2f}{real:>13.2f}{peak:>8.1f}")
                rows.append(torch.cat(outputs, dim=3))
    if args.grid is not None:
        save_image(torch.cat(rows, dim=2)[0] / 255.0, args.grid)
        print(f"wrote {args.grid}")


if __name__ == "__main__":
    main()
