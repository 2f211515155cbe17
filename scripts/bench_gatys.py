"""Time Gatys L-BFGS iterations and peak memory on the bundled VGG-19 (one size per process).

    python scripts/bench_gatys.py --content PHOTO --style PAINTING --size 256 --iterations 12
    python scripts/bench_gatys.py --content PHOTO --style PAINTING --size 2048 --num-scales 4 \
        --iterations 1 --iterations-list 30,20,10,5

Prints the median seconds per iteration after 2 warm-up iterations (single scale), or the
wall time of a whole coarse-to-fine run, and the process's peak resident memory (ru_maxrss).
"""

from __future__ import annotations

import argparse
import itertools
import resource
import statistics
import time

import torch

from stylenet.data.images import read_image
from stylenet.devices import autocast_dtype
from stylenet.losses import PerceptualLoss
from stylenet.methods.gatys import StyleTargets, build_loss_network, gatys_transfer

CONTENT = {"relu4_2": 1.0}
STYLE = {f"relu{i}_1": 1.0 for i in range(1, 6)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--content", required=True)
    parser.add_argument("--style", required=True)
    parser.add_argument("--size", type=int, default=256, help="output longest side")
    parser.add_argument("--iterations", type=int, default=12)
    parser.add_argument("--num-scales", type=int, default=1)
    parser.add_argument("--iterations-list", default=None, help="per scale, e.g. 30,20,10")
    parser.add_argument("--precision", default="fp32", help="fp32 | bf16 (VGG autocast)")
    args = parser.parse_args()
    content = read_image(args.content, max_side=args.size)
    style = read_image(args.style, max_side=args.size)
    vgg = build_loss_network("vgg19_caffe", "max", CONTENT, STYLE)
    loss = PerceptualLoss(CONTENT, STYLE, 1.0, 5.0, 100.0, vgg=vgg)
    stamps: list[float] = []
    iterations = args.iterations
    if args.iterations_list:
        iterations = [int(x) for x in args.iterations_list.split(",")]
    start = time.perf_counter()
    gatys_transfer(
        loss,
        content,
        StyleTargets([style], [1.0]),
        size=tuple(content.shape[-2:]),
        iterations=iterations,
        num_scales=args.num_scales,
        on_step=lambda s, i, im: stamps.append(time.perf_counter()),
        progress=False,
        dtype=autocast_dtype(args.precision),
    )
    wall = time.perf_counter() - start
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    h, w = content.shape[-2:]
    if args.num_scales == 1 and len(stamps) > 3:
        steps = [b - a for a, b in itertools.pairwise(stamps[1:])]
        print(
            f"{h}x{w}: median {statistics.median(steps):.2f} s/iteration "
            f"({len(steps)} timed after 2 warm-up), threads={torch.get_num_threads()}"
        )
    print(
        f"{h}x{w} scales={args.num_scales} iterations={iterations}: wall {wall:.1f} s, "
        f"peak RSS {peak_gib:.2f} GiB"
    )


if __name__ == "__main__":
    main()
