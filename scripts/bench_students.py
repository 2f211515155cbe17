"""Speed of candidate student networks against today's default (``johnson_small``), in one run.

    python scripts/bench_students.py
    python scripts/bench_students.py --nets johnson_small "johnson_small:width=0.375,outer_kernel=5"

Each ``--nets`` entry is ``conf/net/<name>`` with optional ``key=value`` overrides of its
fields. Randomly initialised networks (speed does not depend on the weights) are exported to
ONNX (fp32) and run with ONNX Runtime on the CPU, batch 1, the same photo-like input for every
network. The networks take turns within each repeat (so a change in the machine's load hits
them all alike); each cell is the median of ``--repeats``, and the ratio is the first
network's time over this one's. MAC/pixel counts the convolutions. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from bench_infer import conv_flops, photo, random_net

from stylenet.export.onnx import export_onnx
from stylenet.nn.checkpoint import ModelInfo
from stylenet.nn.transformer import TransformerNet
from stylenet.serve.runtime import OnnxStylizer

DEFAULT_NETS = [
    "johnson_small",
    "johnson_small:outer_kernel=5",
    "johnson_small:num_res_blocks=3,outer_kernel=5",
    "johnson_small:width=0.375,outer_kernel=5",
    "johnson_small:width=0.375,num_res_blocks=4,outer_kernel=5",
    "johnson_fast",
]


def candidate(spec: str) -> torch.nn.Module:
    """The network of ``name[:key=value,...]`` (random weights, eval mode)."""
    name, _, overrides = spec.partition(":")
    net = random_net(name)
    if not overrides:
        return net
    config = dict(net.config)
    for item in overrides.split(","):
        key, _, value = item.partition("=")
        config[key.strip()] = yaml.safe_load(value)  # typed by YAML's rules
    return TransformerNet(**config).eval()


def pair(text: str) -> tuple[int, int]:
    width, height = text.lower().split("x")
    return int(width), int(height)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nets", nargs="+", default=DEFAULT_NETS)
    parser.add_argument("--sizes", nargs="+", default=["640x480", "1024x1024"], help="WxH")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads")
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f"load average {os.getloadavg()[0]:.2f}; ONNX Runtime CPU, {args.threads} threads")
    with tempfile.TemporaryDirectory() as scratch:
        nets = {spec: candidate(spec) for spec in args.nets}
        runs = {
            spec: OnnxStylizer(
                export_onnx(net, ModelInfo(["random"]), Path(scratch) / f"{index}.onnx"),
                ["CPUExecutionProvider"],
                intra_op_threads=args.threads,
            )
            for index, (spec, net) in enumerate(nets.items())
        }
        sizes = [pair(size) for size in args.sizes]
        header = " | ".join(f"{w}x{h} ms (x first)" for w, h in sizes)
        print(f"\n| network | MAC/pixel | {header} |\n|---|---:|" + "---|" * len(sizes))
        times: dict[tuple[str, int], list[float]] = {}
        for index, (width, height) in enumerate(sizes):
            image = photo(width, height).numpy()
            for run in runs.values():
                run(image)  # warm-up
            for _ in range(args.repeats):
                for spec, run in runs.items():
                    start = time.perf_counter()
                    run(image)
                    times.setdefault((spec, index), []).append(time.perf_counter() - start)
        first = args.nets[0]
        for spec, net in nets.items():
            macs = conv_flops(net, 256, 256) / 2 / 256**2
            cells = []
            for index in range(len(sizes)):
                median = statistics.median(times[(spec, index)])
                ratio = statistics.median(times[(first, index)]) / median
                cells.append(f"{1e3 * median:.1f} ({ratio:.2f}x)")
            print(f"| {spec} | {np.round(macs / 1e3, 1)}k | " + " | ".join(cells) + " |")
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
