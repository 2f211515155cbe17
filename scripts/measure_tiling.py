"""Measure tiled inference: agreement with a single pass, seams, and a huge photo's memory.

    python scripts/measure_tiling.py --model johnson --size 1024x1536 --tiles 256,512,768,1024
    python scripts/measure_tiling.py --model johnson --big 6000x4000

Random-initialised networks from ``conf/train/model/<name>.yaml`` (or ``--checkpoint``/``--onnx``
for a trained one), run with ONNX Runtime fp32 (``--backend torch`` for PyTorch eager).
Agreement mode prints, per tile size and overlap, the mean and 99th-percentile
``|tiled - single pass|`` (0–255) and the seam ratio at tile edges for the tiled output next
to the same ratio for the single pass (~equal = no visible seam). ``--big`` stylizes one
synthetic photo of that size through ``stylize_array`` (automatic tiling) and prints the wall
time and the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from stylenet.config import train_config_dir
from stylenet.export.calibration import synthetic_photo
from stylenet.export.onnx import export_onnx
from stylenet.nn.checkpoint import ModelInfo
from stylenet.serve.loader import load_stylizer
from stylenet.serve.pipeline import stylize_array
from stylenet.serve.stylizer import Stylizer
from stylenet.serve.tiling import seam_ratio, stylize_tiled
from stylenet.serve.torch_backend import TorchStylizer


def random_net(name: str) -> torch.nn.Module:
    """A randomly initialised network from ``conf/train/model/<name>.yaml`` (eval mode)."""
    with initialize_config_dir(config_dir=train_config_dir(), version_base="1.3"):
        cfg = compose(config_name=f"model/{name}")
    return instantiate(cfg.model).eval()


def make_stylizer(args: argparse.Namespace, scratch: Path) -> Stylizer:
    if args.checkpoint or args.onnx:
        return load_stylizer(args.checkpoint or args.onnx, device="cpu")
    torch.manual_seed(0)
    net = random_net(args.model)
    if args.backend == "torch":
        return TorchStylizer(net, ModelInfo(["random"]), device="cpu")
    return load_stylizer(export_onnx(net, ModelInfo(["random"]), scratch / "model.onnx"))


def photo(height: int, width: int, seed: int = 5) -> np.ndarray:
    """A photo-like ``1×3×H×W`` float32 image in [0, 255] (smooth regions, edges, grain)."""
    base = synthetic_photo(seed, 256).unsqueeze(0)
    image = F.interpolate(base, size=(height, width), mode="bicubic", align_corners=False)
    return (image + torch.randn_like(image) * 6).clamp(0, 255).numpy()


def agreement(stylizer: Stylizer, size: tuple[int, int], tiles: list[int], overlaps: list[int]):
    image = photo(*size)
    single = stylizer(image)
    print("| tile | overlap | mean abs diff | p99 abs diff | seam ratio tiled / single |")
    print("|---:|---:|---:|---:|---:|")
    for tile in tiles:
        for overlap in (o for o in overlaps if 2 * o < tile):
            tiled = stylize_tiled(stylizer, image, tile=tile, overlap=overlap)
            diff = np.abs(tiled - single).ravel()
            sample = np.random.default_rng(0).permutation(diff.size)[:1_000_000]
            p99 = np.quantile(diff[sample], 0.99)
            print(
                f"| {tile} | {overlap} | {diff.mean():.2f} | {p99:.1f} | "
                f"{seam_ratio(tiled[0].transpose(1, 2, 0), tile, overlap):.2f} / "
                f"{seam_ratio(single[0].transpose(1, 2, 0), tile, overlap):.2f} |",
                flush=True,
            )


def big(stylizer: Stylizer, size: tuple[int, int]) -> None:
    width, height = size
    image = np.rint(photo(height, width)[0].transpose(1, 2, 0)).astype(np.uint8)
    start = time.perf_counter()
    out = stylize_array(stylizer, image)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"{width}×{height}: {tuple(out.shape)} in {seconds:.1f} s, peak RSS {peak:.2f} GiB")


def pair(text: str) -> tuple[int, int]:
    a, b = text.lower().split("x")
    return int(a), int(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="johnson", help="conf/train/model name (random weights)")
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--onnx", default=None)
    parser.add_argument("--backend", default="onnx", choices=["onnx", "torch"])
    parser.add_argument("--size", type=pair, default=(1024, 1536), help="HxW for agreement")
    parser.add_argument("--tiles", default="256,512,768,1024")
    parser.add_argument("--overlaps", default="32,64,128")
    parser.add_argument("--big", type=pair, default=None, help="WxH of one huge photo")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        stylizer = make_stylizer(args, Path(scratch))
        if args.big:
            big(stylizer, args.big)
            return
        tiles = [int(t) for t in args.tiles.split(",")]
        overlaps = [int(o) for o in args.overlaps.split(",")]
        agreement(stylizer, args.size, tiles, overlaps)


if __name__ == "__main__":
    main()
