"""Speed of the arbitrary-style path (any painting) against the shipped single-style models.

    python scripts/bench_arbitrary.py
    python scripts/bench_arbitrary.py --sizes 640x480 --repeats 11 --threads 2

ONNX Runtime on the CPU, batch 1, the same photo-like input for every model. Rows: the shipped
single-style models and the arbitrary-style network with WCT and with AdaIN (encode + NumPy
transform + decode; the painting's statistics are computed once beforehand, as the stylizer
caches them, and timed on their own). Each cell is the median of ``--repeats`` runs after
``--warmup``, the models taking turns within every repeat so that load changes hit all of
them alike; ratios are against ``starry_night_fast`` in the same run. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from stylenet.resources import shared_data_dir, shipped_models_dir
from stylenet.serve.arbitrary import (
    ArbitraryNetwork,
    PaintingStylizer,
    pad_to_multiple,
    single_blas,
)
from stylenet.serve.runtime import OnnxStylizer
from stylenet.serve.wct import FeatureStatistics, transfer

BASELINE = "starry_night_fast"
SINGLE = ("starry_night_fast", "starry_night", "wave")


def pair(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height or width)


def photo(width: int, height: int) -> np.ndarray:
    """A smooth photo-like ``1×3×H×W`` float32 picture in [0, 255]."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack(
        [255 * xx / width, 255 * yy / height, 127 + 90 * np.sin(xx / 9) * np.cos(yy / 7)]
    )
    return np.clip(image, 0, 255)[None].astype(np.float32)


def painting_pixels() -> np.ndarray:
    """A shared painting when the data is here, else a synthetic one (speed does not care)."""
    paintings = sorted(Path(shared_data_dir("styles")).glob("*.jpg"))
    if paintings:
        from stylenet.data.image_files import read_array

        return read_array(paintings[0])
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (512, 512, 3), dtype=np.uint8)


WIDE = "arbitrary_wide"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", nargs="+", type=pair, default=[(256, 256), (640, 480), (1024, 1024)]
    )
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads")
    args = parser.parse_args()
    cpu = ["CPUExecutionProvider"]
    options = {"providers": cpu, "intra_op_threads": args.threads, "spinning": False}
    models: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
    for name in SINGLE:
        path = shipped_models_dir() / f"{name}.onnx"
        if path.is_file():
            models[name] = OnnxStylizer(path, **options)
    network = ArbitraryNetwork(**options)
    started = time.perf_counter()
    painting = network.painting(painting_pixels())
    painting_ms = 1000 * (time.perf_counter() - started)
    for transform in ("wct", "adain"):
        models[f"arbitrary ({transform})"] = PaintingStylizer(
            network, painting, transform=transform
        )
    wide_folder = shipped_models_dir() / WIDE
    if wide_folder.is_dir():  # the wider network: better style, slower
        wide = ArbitraryNetwork(wide_folder, **options)
        models[f"{WIDE} (wct)"] = PaintingStylizer(wide, wide.painting(painting_pixels()))
    print(f"painting statistics (once per painting, cached): {painting_ms:.0f} ms")
    print(f"ONNX Runtime CPU, {args.threads} threads, median of {args.repeats}\n")
    header = "| model | " + " | ".join(f"{w}x{h} ms (x {BASELINE})" for w, h in args.sizes) + " |"
    print(header)
    print("|" + "---|" * (len(args.sizes) + 1))
    cells: dict[str, list[str]] = {name: [] for name in models}
    parts: list[str] = []
    for width, height in args.sizes:
        image = photo(width, height)
        for model in models.values():
            for _ in range(args.warmup):
                model(image)
        times: dict[str, list[float]] = {name: [] for name in models}
        for _ in range(args.repeats):
            for name, model in models.items():
                start = time.perf_counter()
                model(image)
                times[name].append(time.perf_counter() - start)
        medians = {name: 1000 * statistics.median(t) for name, t in times.items()}
        for name in models:
            cells[name].append(f"{medians[name]:.1f} ({medians[name] / medians[BASELINE]:.2f}x)")
        parts.append(breakdown(network, painting.statistics, image, args.repeats))
    for name in models:
        print(f"| {name} | " + " | ".join(cells[name]) + " |")
    print("\narbitrary (wct) by stage, ms (encode / transform / decode):")
    for (width, height), text in zip(args.sizes, parts, strict=True):
        print(f"- {width}x{height}: {text}")


def breakdown(
    network: ArbitraryNetwork, style: FeatureStatistics, image: np.ndarray, repeats: int
) -> str:
    """Median ms of the three stages of one WCT stylization."""
    stages: dict[str, list[float]] = {"encode": [], "transform": [], "decode": []}
    padded = pad_to_multiple(image)
    for _ in range(repeats):
        start = time.perf_counter()
        features = network.encode(padded)
        encoded = time.perf_counter()
        with single_blas():
            moved = transfer(features, FeatureStatistics.of(features[0]), style)
        transformed = time.perf_counter()
        network.decode(moved)
        done = time.perf_counter()
        stages["encode"].append(encoded - start)
        stages["transform"].append(transformed - encoded)
        stages["decode"].append(done - transformed)
    return " / ".join(f"{1000 * statistics.median(v):.1f}" for v in stages.values())


if __name__ == "__main__":
    main()
