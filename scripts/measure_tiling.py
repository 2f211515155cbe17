"""Measure tiled inference: agreement with a single pass, seams, and a huge photo's memory.

    python scripts/measure_tiling.py --model johnson --size 1024x1536 --tiles 256,512,768,1024
    python scripts/measure_tiling.py --model johnson --big 6000x4000
    python scripts/measure_tiling.py --checkpoint training/wave/checkpoints/last.ckpt \
        --photo photo.jpg --resize 4000x3000 --tiles 512,1024 --statistics tile,thumbnail,calibrated

``--statistics`` (comma list of ``tile``, ``thumbnail``, ``calibrated``, ``exact``,
``layerwise``) chooses how tiles are normalised (:mod:`stylenet.serve.shared_statistics`); ``calibrated@0.3`` runs the calibration
on 0.3 of the picture instead of the default share (``calibrated@0.3/96``: in 96 px thumbnail
crops); ``--statistics-error`` compares each mode's statistics with a full-resolution pass's
instead of tiling; each row also gives the tiled run's wall
time relative to ``tile`` mode at the same tile size (shared statistics include their passes;
median of ``--repeats`` runs, the modes interleaved).
``--photo`` measures a real photo (resized to ``--resize`` WxH) instead of the synthetic one;
``--crop out.jpg`` saves, for the first tile size, a crop around the first interior tile corner:
single pass | each statistics mode, side by side.

Random-initialised networks from ``conf/net/<name>.yaml`` (or ``--checkpoint``/``--onnx``
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

from stylenet.export.calibration import synthetic_photo
from stylenet.export.onnx import export_onnx
from stylenet.nn.checkpoint import ModelInfo
from stylenet.resources import config_dir
from stylenet.serve.layerwise import MIN_TILE
from stylenet.serve.loader import load_stylizer
from stylenet.serve.pipeline import stylize_array
from stylenet.serve.shared_statistics import shared_statistics
from stylenet.serve.stylizer import Stylizer
from stylenet.serve.tiling import seam_ratio, stylize_tiled
from stylenet.serve.torch_backend import TorchStylizer


def random_net(name: str) -> torch.nn.Module:
    """A randomly initialised network from ``conf/net/<name>.yaml`` (eval mode)."""
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose(config_name=f"net/{name}")
    return instantiate(cfg.net).eval()


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
    grain = torch.randn(image.shape, generator=torch.Generator().manual_seed(seed))
    return (image + grain * 6).clamp(0, 255).numpy()


def load_photo(path: str, size: tuple[int, int] | None) -> np.ndarray:
    """A real photo as ``1×3×H×W`` float32 in [0, 255], resized (bicubic) to ``size`` WxH."""
    import cv2

    image = cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    if size is not None:
        image = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32)


def mode_options(mode: str) -> tuple[str, dict[str, float | int]]:
    """``calibrated@F/C`` → ``("calibrated", {"fraction": F, "crop": C})`` (both optional)."""
    name, _, rest = mode.partition("@")
    share, _, crop = rest.partition("/")
    options: dict[str, float | int] = {"fraction": float(share)} if share else {}
    if crop:
        options["crop"] = int(crop)
    return name, options


def tiled_run(stylizer: Stylizer, image: np.ndarray, tile: int, overlap: int, mode: str, side: int):
    """(tiled output, seconds) with statistics from ``mode`` (``calibrated@F/C``: the
    calibration run on a share ``F`` of the picture in ``C``-px thumbnail crops)."""
    name, options = mode_options(mode)
    start = time.perf_counter()
    if name == "layerwise":  # the network layer by layer over the tiles, as the pipeline runs it
        run = getattr(stylizer, "layerwise_rows", None)
        if run is None:
            raise SystemExit("layerwise needs a PyTorch model or a format-3 ONNX export")
        rows = [piece for _, piece in run(image, None, tile=max(tile, MIN_TILE))]
        return np.concatenate(rows, axis=2), time.perf_counter() - start
    stats = shared_statistics(stylizer, image, mode=name, tile=tile, side=side, **options)
    tiled = stylize_tiled(stylizer, image, tile=tile, overlap=overlap, statistics=stats)
    return tiled, time.perf_counter() - start


def save_crop(path: str, images: list[np.ndarray], tile: int, overlap: int, size: int = 384):
    """Side-by-side ``size``-px crops (``1×3×H×W`` each) centred on the first tile corner."""
    import cv2

    from stylenet.serve.tiling import tile_edges

    height, width = images[0].shape[-2:]
    cy = (tile_edges(height, tile, overlap) or [height // 2])[0]
    cx = (tile_edges(width, tile, overlap) or [width // 2])[0]
    y0 = min(max(0, cy - size // 2), height - size)
    x0 = min(max(0, cx - size // 2), width - size)
    crops = [im[0, :, y0 : y0 + size, x0 : x0 + size].transpose(1, 2, 0) for im in images]
    gap = np.full((size, 8, 3), 255.0, np.float32)
    row = np.concatenate([c for crop in crops for c in (crop, gap)][:-1], axis=1)
    bgr = cv2.cvtColor(np.clip(row, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
    cv2.imwrite(path, bgr, [cv2.IMWRITE_JPEG_QUALITY, 88])


def agreement(
    stylizer: Stylizer,
    image: np.ndarray,
    tiles: list[int],
    overlaps: list[int],
    modes: list[str],
    side: int,
    crop: str | None = None,
    repeats: int = 1,
) -> None:
    start = time.perf_counter()
    single = stylizer(image)
    print(f"single pass {tuple(image.shape[-2:])}: {time.perf_counter() - start:.1f} s")
    print(
        "| tile | overlap | statistics | mean abs diff | p99 abs diff | "
        "seam ratio tiled / single | seconds: median (range) | time / tile mode |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    for tile in tiles:
        for overlap in (o for o in overlaps if 2 * o < tile):
            results: dict[str, np.ndarray] = {}
            times: dict[str, list[float]] = {mode: [] for mode in modes}
            for _ in range(repeats):  # interleaved, so the machine's load hits every mode
                for mode in modes:
                    tiled, seconds = tiled_run(stylizer, image, tile, overlap, mode, side)
                    results.setdefault(mode, tiled)
                    times[mode].append(seconds)
            outputs = [single, *(results[mode] for mode in modes)]
            baseline = float(np.median(times["tile"])) if "tile" in times else None
            for mode in modes:
                tiled, seconds = results[mode], float(np.median(times[mode]))
                spread = f" ({min(times[mode]):.2f}-{max(times[mode]):.2f})" if repeats > 1 else ""
                ratio = f"{seconds / baseline:.2f}" if baseline else "–"
                diff = np.abs(tiled - single).ravel()
                sample = np.random.default_rng(0).permutation(diff.size)[:1_000_000]
                p99 = np.quantile(diff[sample], 0.99)
                print(
                    f"| {tile} | {overlap} | {mode} | {diff.mean():.2f} | {p99:.1f} | "
                    f"{seam_ratio(tiled[0].transpose(1, 2, 0), tile, overlap):.2f} / "
                    f"{seam_ratio(single[0].transpose(1, 2, 0), tile, overlap):.2f} | "
                    f"{seconds:.2f}{spread} | {ratio} |",
                    flush=True,
                )
            if crop:
                save_crop(crop, outputs, tile, overlap)
                crop = None


def statistics_error(stylizer: Stylizer, image: np.ndarray, modes: list[str], side: int) -> None:
    """Each mode's statistics against a single full-resolution pass's: per norm layer, the
    mean over channels of ``|Δμ| / σ + |log(σ̂² / σ²)| / 2`` (0 = exact), and their mean."""
    channels = getattr(stylizer, "statistics_channels", None)
    if channels is None:
        raise SystemExit("--statistics-error needs a model with statistics support (format 2)")
    exact = np.asarray(stylizer.statistics(image, None), np.float64)  # type: ignore[attr-defined]
    print("| statistics | mean relative error | per norm layer |")
    print("|---|---:|---|")
    for mode in (m for m in modes if m != "tile"):
        name, options = mode_options(mode)
        estimate = shared_statistics(stylizer, image, mode=name, tile=1024, side=side, **options)
        errors, start = [], 0
        for c in channels:
            means, variances = slice(start, start + c), slice(start + c, start + 2 * c)
            assert estimate is not None
            shift = np.abs(estimate[:, means] - exact[:, means]) / np.sqrt(exact[:, variances])
            spread = np.abs(np.log(estimate[:, variances] / exact[:, variances])) / 2
            errors.append(float(shift.mean() + spread.mean()))
            start += 2 * c
        layers = ", ".join(f"{e:.3f}" for e in errors)
        print(f"| {mode} | {np.mean(errors):.4f} | {layers} |", flush=True)


def memory_kib(field: str) -> int | None:
    """A ``/proc/self/status`` field in KiB (Linux; ``None`` elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak_memory() -> bool:
    """Reset the process's peak resident memory (``VmHWM``) to its current value (Linux)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def big(stylizer: Stylizer, size: tuple[int, int], mode: str) -> None:
    """Stylize one synthetic ``size`` photo through ``stylize_array`` (1024 px tiles); print
    the time, the peak resident memory and, on Linux, the peak during the call above the
    memory held before it (the input picture, the model, the libraries)."""
    width, height = size
    image = np.rint(photo(height, width)[0].transpose(1, 2, 0)).astype(np.uint8)
    before = memory_kib("VmRSS") if reset_peak_memory() else None
    start = time.perf_counter()
    out = stylize_array(stylizer, image, tile_statistics=mode)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    during = ""
    hwm = memory_kib("VmHWM")
    if before is not None and hwm is not None:
        during = f", during the call +{(hwm - before) / 1024:.0f} MiB over {before / 1024:.0f} MiB"
    print(
        f"{width}×{height} ({mode}): {tuple(out.shape)} in {seconds:.1f} s, "
        f"peak RSS {peak:.2f} GiB{during} (result {out.nbytes / 2**20:.0f} MiB)"
    )


def pair(text: str) -> tuple[int, int]:
    a, b = text.lower().split("x")
    return int(a), int(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="johnson", help="conf/net name (random weights)")
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--onnx", default=None)
    parser.add_argument("--backend", default="onnx", choices=["onnx", "torch"])
    parser.add_argument("--size", type=pair, default=(1024, 1536), help="HxW for agreement")
    parser.add_argument("--tiles", default="256,512,768,1024")
    parser.add_argument("--overlaps", default="32,64,128")
    parser.add_argument("--big", type=pair, default=None, help="WxH of one huge photo")
    parser.add_argument(
        "--statistics",
        default="tile,thumbnail,calibrated",
        help="tile,thumbnail,calibrated,exact,layerwise",
    )
    parser.add_argument("--side", type=int, default=1024, help="the thumbnail's longest side")
    parser.add_argument("--photo", default=None, help="a real photo instead of the synthetic one")
    parser.add_argument("--resize", type=pair, default=None, help="WxH to resize --photo to")
    parser.add_argument("--crop", default=None, help="save a before/after crop (JPEG) here")
    parser.add_argument("--repeats", type=int, default=1, help="time each run N times (median)")
    parser.add_argument(
        "--statistics-error",
        action="store_true",
        help="compare each mode's statistics with a full-resolution pass's (no tiling)",
    )
    args = parser.parse_args()
    modes = args.statistics.split(",")
    with tempfile.TemporaryDirectory() as scratch:
        stylizer = make_stylizer(args, Path(scratch))
        if args.big:
            big(stylizer, args.big, modes[-1])
            return
        tiles = [int(t) for t in args.tiles.split(",")]
        overlaps = [int(o) for o in args.overlaps.split(",")]
        image = load_photo(args.photo, args.resize) if args.photo else photo(*args.size)
        if args.statistics_error:
            statistics_error(stylizer, image, modes, args.side)
            return
        agreement(stylizer, image, tiles, overlaps, modes, args.side, args.crop, args.repeats)


if __name__ == "__main__":
    main()
