"""Measure video flicker with and without temporal stabilisation (static-camera clip).

Builds a clip from one photo as a static camera would film it: every frame gets fresh
Gaussian sensor noise and a small global brightness jitter. Each frame is stylized on its
own (with its own instance-norm statistics, and with a thumbnail's: ``--thumbnails``), then the
same stylized frames are stabilised; the script prints the flicker ratio
(mean |frame_t - frame_{t-1}| of the stylized clip / of the content clip; see
``stylenet.serve.temporal.flicker``) for both, and the stabiliser's cost in ms/frame.

    python scripts/measure_flicker.py                      # random johnson_small, COCO photo
    python scripts/measure_flicker.py --model exported/starry.onnx --size 360 --frames 40

Without --model a randomly initialised ``johnson_small`` network is used (the output says
so): it shows the mechanism, not the flicker of a trained style.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from stylenet.nn.checkpoint import ModelInfo
from stylenet.nn.transformer import TransformerNet
from stylenet.serve.frames import FrameStylizer, processing_size
from stylenet.serve.loader import load_stylizer
from stylenet.serve.shared_statistics import supports_statistics
from stylenet.serve.stylizer import Stylizer
from stylenet.serve.temporal import MOTIONS, TemporalStabilizer, flicker
from stylenet.serve.torch_backend import TorchStylizer

COCO = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "coco" / "val2017"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help=".onnx or .ckpt; default: random johnson_small")
    parser.add_argument("--photo", help="photo for the clip; default: a COCO val2017 photo")
    parser.add_argument("--synthetic", action="store_true", help="synthetic picture, no photo")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--size", type=int, default=256, help="longest side of the clip")
    parser.add_argument("--noise", type=float, default=4.0, help="sensor noise sigma (0-255)")
    parser.add_argument("--jitter", type=float, default=2.0, help="brightness jitter (0-255)")
    parser.add_argument("--strength", type=float, nargs="+", default=[0.5, 0.7, 0.85])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--thumbnails",
        type=int,
        nargs="*",
        default=[128],
        help="also stylize the clip with frames normalised by the instance-norm statistics of "
        "a thumbnail of this longest side (FrameStylizer's default; models with statistics "
        "support); the first rows use each frame's own statistics",
    )
    return parser.parse_args(argv)


def load_photo(path: str | None, size: int, synthetic: bool = False) -> tuple[np.ndarray, str]:
    """``H×W×3`` uint8 BGR photo with longest side ``size``, and where it came from."""
    if synthetic:
        return synthetic_photo(size), "synthetic"
    if path is None and COCO.is_dir():
        candidates = sorted(COCO.glob("*.jpg"))
        path = str(candidates[0]) if candidates else None
    if path is None:
        return synthetic_photo(size), "synthetic"
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        sys.exit(f"cannot read photo {path}")
    height, width = processing_size(*image.shape[:2], size)
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA), path


def synthetic_photo(size: int) -> np.ndarray:
    """Smooth gradients, stripes and a few shapes (3:4 aspect)."""
    height, width = (size * 3) // 4, size
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack(
        [255 * xx / width, 255 * yy / height, 127 + 100 * np.sin(xx / 9) * np.cos(yy / 13)], -1
    )
    cv2.circle(image, (width // 3, height // 2), height // 5, (30, 200, 240), -1)
    cv2.rectangle(image, (width // 2, height // 5), (width - 20, height // 2), (220, 40, 60), -1)
    return np.clip(image, 0, 255).astype(np.uint8)


def static_clip(photo: np.ndarray, frames: int, noise: float, jitter: float, seed: int):
    """``frames`` noisy copies of ``photo`` (sensor noise + global brightness jitter)."""
    rng = np.random.default_rng(seed)
    clip = []
    for _ in range(frames):
        offset = rng.uniform(-jitter, jitter)
        frame = photo.astype(np.float32) + offset + rng.normal(0, noise, photo.shape)
        clip.append(np.clip(np.rint(frame), 0, 255).astype(np.uint8))
    return clip


def build_stylizer(model: str | None) -> tuple[Stylizer, str]:
    if model:
        return load_stylizer(model, device="cpu"), model
    torch.manual_seed(0)
    net = TransformerNet(width=0.5, num_res_blocks=5)  # conf/net/johnson_small.yaml
    return TorchStylizer(net, ModelInfo(["random"]), "cpu"), "random johnson_small (untrained)"


def stabilise(stylized, content, strength: float, motion: str) -> tuple[list, float]:
    """Stabilised frames and the median ms per frame of the stabiliser."""
    stabilizer = TemporalStabilizer(strength=strength, motion=motion)
    out, times = [], []
    for frame, source in zip(stylized, content, strict=True):
        start = time.perf_counter()
        out.append(stabilizer(frame, source))
        times.append(time.perf_counter() - start)
    return out, 1e3 * statistics.median(times[1:])


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(2)
    photo, source = load_photo(args.photo, args.size, args.synthetic)
    clip = static_clip(photo, args.frames, args.noise, args.jitter, args.seed)
    stylizer, model_name = build_stylizer(args.model)
    per_frame = FrameStylizer(stylizer, temporal=0.0, statistics_side=None)
    per_frame(clip[0])  # warm-up
    start = time.perf_counter()
    stylized = [per_frame(frame) for frame in clip]
    net_ms = 1e3 * (time.perf_counter() - start) / len(clip)
    height, width = photo.shape[:2]
    print(f"model: {model_name}")
    print(f"clip: {source}, {len(clip)} frames {width}x{height}, noise sigma {args.noise},")
    print(f"      brightness jitter +-{args.jitter}; network {net_ms:.1f} ms/frame")
    print(f"flicker without stabilisation: {flicker(stylized, clip):.3f}")
    for side in args.thumbnails if supports_statistics(stylizer) else []:
        shared = [FrameStylizer(stylizer, temporal=0.0, statistics_side=side)(f) for f in clip]
        print(f"flicker with {side} px thumbnail statistics: {flicker(shared, clip):.3f}")
        for strength in args.strength:
            stable, _ = stabilise(shared, clip, strength, MOTIONS[0])
            ratio = flicker(stable, clip)
            print(f"  + temporal={strength} motion={MOTIONS[0]}: {ratio:.3f}")
    for motion in MOTIONS:
        for strength in args.strength:
            stable, ms = stabilise(stylized, clip, strength, motion)
            ratio = flicker(stable, clip)
            print(
                f"flicker with temporal={strength} motion={motion}: {ratio:.3f} ({ms:.2f} ms/frame)"
            )


if __name__ == "__main__":
    main()
