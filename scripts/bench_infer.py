"""Inference speed: PyTorch eager fp32 (baseline) vs ONNX Runtime fp32 and INT8, side by side.

    python scripts/bench_infer.py
    python scripts/bench_infer.py --models johnson_fast --sizes 640x480 --repeats 10

Randomly initialised networks from ``conf/net/<name>.yaml`` (speed does not depend on the
weights), batch 1, the same photo-like input for every backend. Each cell: ``--warmup`` runs,
then the median of ``--repeats`` timed runs (fewer for slow cells, at least 3, so a cell takes
about ``--budget`` seconds). GFLOP/frame counts the convolutions (2·MACs, from shapes);
achieved GFLOP/s is compared with this run's measured fp32 matmul peak (torch, same threads).
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from torch import nn

from stylenet.export.calibration import ImageCalibrationReader, synthetic_photo
from stylenet.export.onnx import export_onnx
from stylenet.export.variants import to_int8
from stylenet.nn.checkpoint import ModelInfo
from stylenet.resources import config_dir
from stylenet.serve.runtime import OnnxStylizer


def random_net(name: str) -> nn.Module:
    """A randomly initialised network from ``conf/net/<name>.yaml`` (eval mode)."""
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose(config_name=f"net/{name}")
    return instantiate(cfg.net).eval()


def conv_flops(net: nn.Module, height: int, width: int) -> float:
    """Convolution FLOPs (2·MACs) of one ``3×H×W`` frame, from shapes on the meta device."""
    total = 0.0

    def count(module: nn.Conv2d, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        per_output = module.in_channels // module.groups * math.prod(module.kernel_size)
        total += 2.0 * output.numel() * per_output

    meta = copy.deepcopy(net).to("meta")
    hooks = [m.register_forward_hook(count) for m in meta.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        meta(torch.empty(1, 3, height, width, device="meta"))
    for hook in hooks:
        hook.remove()
    return total


def matmul_peak(threads: int, side: int = 2048, repeats: int = 10) -> float:
    """Measured fp32 matmul GFLOP/s (median of ``repeats``)."""
    torch.set_num_threads(threads)
    a, b = torch.randn(side, side), torch.randn(side, side)
    times = median_time(lambda: a @ b, warmup=2, repeats=repeats, budget=1e9)[0]
    return 2 * side**3 / times / 1e9


def median_time(
    run: Callable[[], object], warmup: int, repeats: int, budget: float
) -> tuple[float, int]:
    """(median seconds, timed runs): ``warmup`` runs, then up to ``repeats`` (>= 3) timed runs
    within about ``budget`` seconds."""
    start = time.perf_counter()
    for _ in range(max(warmup, 1)):
        run()
    first = (time.perf_counter() - start) / max(warmup, 1)
    count = max(3, min(repeats, int(budget / max(first, 1e-9))))
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), count


def photo(width: int, height: int) -> torch.Tensor:
    """A photo-like ``1×3×H×W`` input in [0, 255]."""
    image = synthetic_photo(0, 256).unsqueeze(0)
    return F.interpolate(image, size=(height, width), mode="bilinear").clamp(0, 255)


def backends(net: nn.Module, scratch: Path, args: argparse.Namespace) -> dict:
    """``name -> callable(images)`` for eager fp32, ORT fp32 and ORT INT8."""
    fp32 = export_onnx(net, ModelInfo(["random"]), scratch / "model.onnx")
    int8 = to_int8(
        fp32, scratch / "model.int8.onnx", ImageCalibrationReader(None, args.num_calibration)
    )
    threads = args.ort_threads if args.ort_threads is not None else args.threads
    options = {"intra_op_threads": threads, "optimization": args.optimization}
    options["spinning"] = not args.no_spin

    def eager(images: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return net(images)

    ort_fp32 = OnnxStylizer(fp32, ["CPUExecutionProvider"], **options)
    ort_int8 = OnnxStylizer(int8, ["CPUExecutionProvider"], **options)
    return {
        "eager fp32": eager,
        "ORT fp32": lambda images: torch.from_numpy(ort_fp32(images.numpy())),
        "ORT int8": lambda images: torch.from_numpy(ort_int8(images.numpy())),
    }


def pair(text: str) -> tuple[int, int]:
    width, height = text.lower().split("x")
    return int(width), int(height)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="johnson,johnson_small,johnson_fast")
    parser.add_argument("--sizes", default="256x256,640x480,1920x1080", help="WxH,...")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per cell (approx.)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--num-calibration", type=int, default=8)
    parser.add_argument("--ort-threads", type=int, default=None, help="default: --threads")
    parser.add_argument("--optimization", default="all", help="disable|basic|extended|all")
    parser.add_argument("--no-spin", action="store_true", help="ORT workers do not spin")
    args = parser.parse_args()
    torch.manual_seed(0)
    peak = matmul_peak(args.threads)
    print(f"load average {os.getloadavg()[0]:.2f}; fp32 matmul peak {peak:.0f} GFLOP/s; {args}")
    print(
        "| model | size | GFLOP/frame | backend | ms/frame (runs) | frames/s | vs eager | GFLOP/s | % peak |"
    )
    print("|---|---|---:|---|---:|---:|---:|---:|---:|")
    for name in args.models.split(","):
        net = random_net(name)
        torch.set_num_threads(args.threads)
        with tempfile.TemporaryDirectory() as scratch:
            runs = backends(net, Path(scratch), args)
            for width, height in (pair(s) for s in args.sizes.split(",")):
                images = photo(width, height)
                gflop = conv_flops(net, height, width) / 1e9
                baseline = None
                for backend, run in runs.items():
                    seconds, count = median_time(
                        lambda run=run, images=images: run(images),
                        args.warmup,
                        args.repeats,
                        args.budget,
                    )
                    baseline = baseline or seconds
                    print(
                        f"| {name} | {width}×{height} | {gflop:.1f} | {backend} | "
                        f"{seconds * 1e3:.0f} ({count}) | {1 / seconds:.1f} | "
                        f"{baseline / seconds:.2f}× | {gflop / seconds:.0f} | "
                        f"{100 * gflop / seconds / peak:.0f}% |",
                        flush=True,
                    )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
