"""Wall time of ``python -m stylenet.cli.<command> --help`` for every command (median of repeats).

    python scripts/bench_help.py --repeats 3

The baseline in the same run is ``python -c pass`` (interpreter start-up alone).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = [
    "train", "gatys", "invert", "dream", "saliency", "visualize", "fool",
    "export", "stylize", "webcam", "serve", "inspect",
]  # fmt: skip


def seconds(args: list[str], repeats: int) -> float:
    """Median wall seconds of running ``args`` ``repeats`` times (output discarded)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    base = seconds([sys.executable, "-c", "pass"], args.repeats)
    print(f"python start-up: {base:.2f} s (median of {args.repeats})")
    print("| command | --help seconds | × start-up |\n|---|---|---|")
    for command in COMMANDS:
        took = seconds([sys.executable, "-m", f"stylenet.cli.{command}", "--help"], args.repeats)
        print(f"| stylenet-{command} | {took:.2f} | {took / base:.1f} |")


if __name__ == "__main__":
    main()
