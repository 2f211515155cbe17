"""The base install (``pip install .``, no extras): time to install, size on disk, and that it
stylizes without torch.

Makes a fresh virtualenv per repeat, times ``pip install --no-cache-dir <repo>`` (downloads
included; the virtualenv's own creation is not counted), then measures the virtualenv's size,
checks that torch, torchvision, Lightning and onnx (and OpenCV, without the video extra) are
absent, and runs ``stylenet-stylize`` with a
shipped model on a synthetic photo. Prints a Markdown table (median over repeats).

    python scripts/measure_light_install.py --repeats 2
    python scripts/measure_light_install.py --repeats 2 --with audio
    python scripts/measure_light_install.py --repeats 1 --with video
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ABSENT = ("torch", "torchvision", "lightning", "onnx")
VIDEO_MODULE = "cv2"  # the video extra's OpenCV


def folder_size(path: Path) -> int:
    """Bytes of all regular files under ``path`` (links not followed)."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def one_install(python: str, model: str, extras: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="stylenet-light-") as scratch:
        venv = Path(scratch) / "venv"
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip"]
        subprocess.run([*pip, "install", "-q", "--upgrade", "pip"], check=True)
        site = next((venv / "lib").glob("python*/site-packages"))
        empty = folder_size(site)
        start = time.perf_counter()
        target = f"{REPO}[{extras}]" if extras else str(REPO)
        subprocess.run([*pip, "install", "-q", "--no-cache-dir", target], check=True)
        seconds = time.perf_counter() - start
        absent = ABSENT if "video" in extras.split(",") else (*ABSENT, VIDEO_MODULE)
        probe = f"import importlib.util as u; print([m for m in {absent!r} if u.find_spec(m)])"
        found = subprocess.run(
            [str(venv / "bin" / "python"), "-c", probe], check=True, capture_output=True, text=True
        ).stdout.strip()
        if found != "[]":
            raise SystemExit(f"the install has {found}; it must not")
        photo, out = Path(scratch) / "photo.png", Path(scratch) / "out.jpg"
        make = "import numpy as n, PIL.Image as I; I.fromarray(n.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=n.uint8)).save(%r)"
        subprocess.run([str(venv / "bin" / "python"), "-c", make % str(photo)], check=True)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        start = time.perf_counter()
        subprocess.run(
            [str(venv / "bin" / "stylenet-stylize"), f"model={model}", f"input={photo}",
             f"output={out}", f"hydra.run.dir={scratch}/run"],
            check=True, capture_output=True, cwd=scratch, env=env,
        )  # fmt: skip
        first_image = time.perf_counter() - start
        return {
            "install_s": seconds,
            "venv_mb": folder_size(venv) / 1e6,
            "added_mb": (folder_size(site) - empty) / 1e6,
            "stylize_s": first_image,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--python", default=sys.executable, help="interpreter for the venvs")
    parser.add_argument("--model", default="starry_night")
    parser.add_argument("--with", dest="extras", default="", help="extras, e.g. audio")
    args = parser.parse_args()
    runs = [one_install(args.python, args.model, args.extras) for _ in range(args.repeats)]
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    print(
        "| install | repeats | pip install (s) | virtualenv (MB) | added by pip install (MB) "
        "| first stylize 640×480 (s) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    print(
        f"| .[{args.extras}] | {len(runs)} | {median['install_s']:.1f} | {median['venv_mb']:.0f} | "
        f"{median['added_mb']:.0f} | {median['stylize_s']:.2f} |"
    )


if __name__ == "__main__":
    main()
