"""One-shot GPU check: CUDA training and ONNX Runtime CUDA/TensorRT serving, as a Markdown table.

    python scripts/gpu_check.py                 # on a CUDA machine: under 8 minutes
    python scripts/gpu_check.py --quick         # CPU parts only, tiny settings (what CI runs)

Parts (each row names its part; without CUDA the CUDA parts are listed as skipped):
1. parity: the same batch through the same initial network, a few Adam steps, on the CPU (fp32)
   and on CUDA (bf16 autocast); the losses agree within ``--loss-rtol``.
2. speed: ms/step of CUDA bf16 training for johnson_small and johnson at batch 4/16, 256/512 px
   (median of ``--repeats`` after warm-up).
3. trainer: ``stylenet-train trainer=gpu`` for ``--trainer-steps`` steps end to end on synthetic
   photos (exit status, wall time).
4. onnx: each shipped model (``exported/*.onnx``; fp32 and an fp16 variant) on the CPU, CUDA and
   TensorRT providers: max |Δ| against the CPU at 640×480, ms/frame at 640×480, 1920×1080 and
   3840×2160 (the CPU only at 640×480).
5. webcam: ``stylenet-webcam`` on a 1080p clip with the CUDA provider (frames/s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from hydra import compose, initialize_config_dir
from PIL import Image

from stylenet.cli.config import build
from stylenet.export.variants import to_fp16
from stylenet.resources import config_dir
from stylenet.serve.runtime import OnnxStylizer

REPO = Path(__file__).resolve().parents[1]
SIZES = {"640x480": (480, 640), "1920x1080": (1080, 1920), "3840x2160": (2160, 3840)}
GPU_PROVIDERS = ("CUDAExecutionProvider", "TensorrtExecutionProvider")


def median_ms(run: Callable[[], object], repeats: int, sync: bool = False) -> float:
    """Median milliseconds of ``repeats`` runs after two warm-up runs."""
    times = []
    for index in range(repeats + 2):
        start = time.perf_counter()
        run()
        if sync:
            torch.cuda.synchronize()
        if index >= 2:
            times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def training_parts(model: str, perceptual: str) -> tuple[torch.nn.Module, torch.nn.Module]:
    """A fresh network (seed 0) and the perceptual loss with a synthetic style target."""
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose(config_name="train", overrides=[f"net={model}", f"perceptual={perceptual}"])
    torch.manual_seed(0)
    net = build(cfg.net)
    loss = build(cfg.perceptual, _convert_="all")
    loss.set_styles([torch.rand(3, 128, 128, generator=torch.Generator().manual_seed(1))])
    return net, loss


def train_losses(
    model: str, perceptual: str, device: str, batch: torch.Tensor, steps: int
) -> list[float]:
    """Losses of ``steps`` Adam steps on one batch (bf16 autocast on CUDA, fp32 on the CPU)."""
    net, loss = training_parts(model, perceptual)
    net, loss, batch = net.to(device), loss.to(device), batch.to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        with torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda"):
            targets = loss.content_targets(batch)
            total = loss(net(batch * 255.0) / 255.0, targets).total.mean()
        total.backward()
        optimizer.step()
        losses.append(float(total.detach()))
    return losses


def check_parity(args: argparse.Namespace, rows: list[list[str]], skipped: list[str]) -> None:
    batch = torch.rand(
        2, 3, args.parity_size, args.parity_size, generator=torch.Generator().manual_seed(2)
    )
    cpu = train_losses(args.parity_model, args.perceptual, "cpu", batch, args.parity_steps)
    rows.append(["parity", f"CPU fp32, {args.parity_model}", " ".join(f"{v:.4g}" for v in cpu)])
    if not torch.cuda.is_available():
        skipped.append("parity: CUDA bf16 losses against the CPU (no CUDA)")
        return
    cuda = train_losses(args.parity_model, args.perceptual, "cuda", batch, args.parity_steps)
    worst = max(abs(a - b) / abs(b) for a, b in zip(cuda, cpu, strict=True))
    verdict = "ok" if worst <= args.loss_rtol else f"FAIL (> {args.loss_rtol})"
    rows.append(["parity", "CUDA bf16 vs CPU", f"max rel. Δ loss {worst:.3g}: {verdict}"])


def check_speed(args: argparse.Namespace, rows: list[list[str]], skipped: list[str]) -> None:
    if not torch.cuda.is_available():
        skipped.append("speed: CUDA ms/step for johnson_small/johnson, batch 4/16, 256/512 px")
        return
    for model in ("johnson_small", "johnson"):
        net, loss = training_parts(model, args.perceptual)
        net, loss = net.cuda(), loss.cuda()
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
        for batch_size in (4, 16):
            for side in (256, 512):
                batch = torch.rand(batch_size, 3, side, side, device="cuda")

                def step(batch=batch, net=net, loss=loss, optimizer=optimizer) -> None:
                    optimizer.zero_grad()
                    with torch.autocast("cuda", dtype=torch.bfloat16):
                        targets = loss.content_targets(batch)
                        total = loss(net(batch * 255.0) / 255.0, targets).total.mean()
                    total.backward()
                    optimizer.step()

                ms = median_ms(step, args.repeats, sync=True)
                rows.append(
                    ["speed", f"{model}, batch {batch_size}, {side} px", f"{ms:.1f} ms/step"]
                )


def synthetic_photos(folder: Path, count: int, size: tuple[int, int]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for index in range(count):
        yy, xx = np.mgrid[0 : size[0], 0 : size[1]]
        picture = np.stack([xx % 256, yy % 256, 128 + 60 * np.sin(xx / (4 + index))], -1)
        picture = np.clip(picture + rng.normal(0, 10, picture.shape), 0, 255).astype(np.uint8)
        Image.fromarray(picture).save(folder / f"p{index}.jpg")
    return folder


def python_module(module: str, *args: str) -> tuple[int, float, str]:
    """Run ``python -m module args``; (exit status, seconds, last stderr lines)."""
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, env=env, timeout=400
    )
    tail = " / ".join(proc.stderr.strip().splitlines()[-2:])
    return proc.returncode, time.perf_counter() - start, tail


def check_trainer(
    args: argparse.Namespace, work: Path, rows: list[list[str]], skipped: list[str]
) -> None:
    if not torch.cuda.is_available():
        skipped.append(f"trainer: stylenet-train trainer=gpu, {args.trainer_steps} steps (no CUDA)")
        return
    photos = synthetic_photos(work / "photos", 16, (288, 352))
    Image.fromarray(np.asarray(Image.open(photos / "p0.jpg"))[::-1]).save(work / "painting.jpg")
    status, seconds, tail = python_module(
        "stylenet.cli.train",
        "trainer=gpu",
        f"trainer.max_steps={args.trainer_steps}",
        f"data.root={photos}",
        "data.num_val=2",
        f"painting.image={work / 'painting.jpg'}",
        "painting=wave",
        "progress=false",
        f"hydra.run.dir={work / 'train'}",
    )
    result = f"ok, {seconds:.0f} s" if status == 0 else f"FAIL (exit {status}): {tail}"
    rows.append(["trainer", f"trainer=gpu, {args.trainer_steps} steps, 256 px", result])


def shipped_models(names: list[str] | None) -> list[Path]:
    models = sorted(p for p in (REPO / "exported").glob("*.onnx") if p.stem.count(".") == 0)
    return [p for p in models if names is None or p.stem in names]


def check_onnx(
    args: argparse.Namespace, work: Path, rows: list[list[str]], skipped: list[str]
) -> None:
    available = ort.get_available_providers()
    gpu = [p for p in GPU_PROVIDERS if p in available]
    missing = [p for p in GPU_PROVIDERS if p not in available]
    if missing:
        skipped.append(f"onnx: {', '.join(missing)} (not in this onnxruntime build or no CUDA)")
    sizes = ["640x480"] if args.quick else list(SIZES)
    for path in shipped_models(args.models):
        variants = {"fp32": path}
        if not args.quick:
            variants["fp16"] = to_fp16(path, work / f"{path.stem}.fp16.onnx")
        for variant, file in variants.items():
            reference = None
            for provider in ["CPUExecutionProvider", *gpu]:
                chain = (
                    [provider]
                    if provider == "CPUExecutionProvider"
                    else [provider, "CPUExecutionProvider"]
                )
                stylizer = OnnxStylizer(file, providers=chain)
                for size in sizes if provider != "CPUExecutionProvider" else ["640x480"]:
                    height, width = SIZES[size]
                    image = (
                        torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(3))
                        * 255
                    ).numpy()
                    ms = median_ms(lambda s=stylizer, i=image: s(i), args.repeats)
                    note = ""
                    if size == "640x480":
                        out = stylizer(image)
                        if provider == "CPUExecutionProvider":
                            reference = out
                        else:
                            note = f", max |Δ| vs CPU {float(np.abs(out - reference).max()):.3g}"
                    name = provider.removesuffix("ExecutionProvider")
                    rows.append(
                        [
                            "onnx",
                            f"{path.stem} {variant}, {name}, {size}",
                            f"{ms:.1f} ms/frame{note}",
                        ]
                    )


def check_webcam(
    args: argparse.Namespace, work: Path, rows: list[list[str]], skipped: list[str]
) -> None:
    if (
        "CUDAExecutionProvider" not in ort.get_available_providers()
        or not torch.cuda.is_available()
    ):
        skipped.append("webcam: stylenet-webcam on a 1080p clip with CUDA (no CUDA provider)")
        return
    import cv2

    clip = work / "clip_1080p.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 30, (1920, 1080))
    frame = np.asarray(Image.open(synthetic_photos(work / "frame", 1, (1080, 1920)) / "p0.jpg"))
    for _ in range(60):
        writer.write(frame[..., ::-1].copy())
    writer.release()
    status, seconds, tail = python_module(
        "stylenet.cli.webcam",
        "model=starry_night",
        f"camera={clip}",
        "display=false",
        f"output={work / 'live.mp4'}",
        "max_frames=60",
        "providers=[CUDAExecutionProvider,CPUExecutionProvider]",
        f"hydra.run.dir={work / 'webcam'}",
    )
    result = (
        f"ok, {60 / seconds:.1f} frames/s incl. start-up"
        if status == 0
        else f"FAIL (exit {status}): {tail}"
    )
    rows.append(["webcam", "starry_night, 1080p clip, CUDA", result])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny CPU parts (for tests)")
    parser.add_argument("--models", nargs="*", default=None, help="shipped model names")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--perceptual", default="vgg19_caffe_fast")
    parser.add_argument("--parity-model", default="johnson_small")
    parser.add_argument("--parity-size", type=int, default=256)
    parser.add_argument("--parity-steps", type=int, default=5)
    parser.add_argument("--loss-rtol", type=float, default=0.05)
    parser.add_argument("--trainer-steps", type=int, default=200)
    args = parser.parse_args()
    if args.quick:
        args.perceptual, args.parity_model, args.parity_size = "random", "tiny", 32
        args.parity_steps, args.repeats = 2, 1
        args.models = args.models or ["starry_night_fast"]
    rows: list[list[str]] = []
    skipped: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        check_parity(args, rows, skipped)
        check_speed(args, rows, skipped)
        check_trainer(args, work, rows, skipped)
        check_onnx(args, work, rows, skipped)
        check_webcam(args, work, rows, skipped)
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device"
    print(f"GPU check on {device}, torch {torch.__version__}, onnxruntime {ort.__version__}\n")
    print("| part | setting | result |\n| --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if skipped:
        print("\nSkipped:")
        for line in skipped:
            print(f"- {line}")
    if any("FAIL" in row[2] for row in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
