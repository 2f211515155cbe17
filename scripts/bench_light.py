"""The ONNX serving path before and after the NumPy rewrite, side by side in one run.

Runs the same measurements in two source trees (``--baseline``: a checkout of the commit
before, e.g. ``git archive 8d6c1a4 | tar -x -C /tmp/base``; ``--tree``: this checkout), one
subprocess per tree and round, rounds interleaved, and prints medians and after/before
ratios:

- cold start: ``python -m stylenet.cli.stylize model=<shipped> input=<photo>`` wall time
  (imports included: the baseline imported torch);
- one file in process (warm): read → stylize (colour preservation, strength 0.8) → write;
- one webcam frame in process (warm): ``FrameStylizer`` on a 640×480 BGR frame.

    python scripts/bench_light.py --baseline /tmp/base --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

WORKER = r"""
import json, statistics, sys, time
import numpy as np
model, fast_model, photo, out, repeats = sys.argv[1:6]
repeats = int(repeats)
start = time.perf_counter()
from stylenet.serve.loader import load_stylizer
from stylenet.serve.frames import FrameStylizer
import stylenet.serve.pipeline as pipeline
imported = time.perf_counter() - start
stylizer = load_stylizer(model)
if hasattr(pipeline, "stylize_array"):  # after: NumPy end to end
    from stylenet.data.image_files import read_array, write_image
    def one_file():
        image = read_array(photo)
        result = pipeline.stylize_array(stylizer, image, preserve_color=True, strength=0.8)
        write_image(result, out)
else:  # before: tensors
    from stylenet.data.images import read_image, save_image
    def one_file():
        image = read_image(photo)
        result = pipeline.stylize_image(stylizer, image, preserve_color=True, strength=0.8)
        save_image(result, out)
frames = FrameStylizer(load_stylizer(fast_model), temporal=0.0)
frame = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
def timed(fn):
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return statistics.median(times)
print(json.dumps({"import_s": imported, "file_s": timed(one_file), "frame_s": timed(lambda: frames(frame))}))
"""


def run_tree(tree: Path, args: argparse.Namespace, photo: Path, scratch: Path) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    command = [sys.executable, "-m", "stylenet.cli.stylize", f"model={args.model}"]
    command += [f"input={photo}", f"output={scratch / 'cold.jpg'}", f"hydra.run.dir={scratch}"]
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=tree, check=True, capture_output=True)
    cold = time.perf_counter() - start
    worker = [sys.executable, "-c", WORKER, args.model, args.fast_model, str(photo)]
    worker += [str(scratch / "warm.jpg"), str(args.repeats)]
    done = subprocess.run(worker, env=env, cwd=tree, check=True, capture_output=True, text=True)
    return {"cold_s": cold, **json.loads(done.stdout.strip().splitlines()[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, type=Path, help="source tree before")
    parser.add_argument("--tree", default=REPO, type=Path, help="source tree after")
    parser.add_argument("--model", default="starry_night")
    parser.add_argument("--fast-model", default="starry_night_fast")
    parser.add_argument("--size", default="640x480", help="WxH of the photo")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per round")
    args = parser.parse_args()
    import numpy as np
    from PIL import Image

    width, height = (int(v) for v in args.size.lower().split("x"))
    trees = {"before": args.baseline.resolve(), "after": args.tree.resolve()}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        photo = scratch / "photo.png"
        rng = np.random.default_rng(0)
        Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8)).save(photo)
        for _ in range(args.rounds):
            for name, tree in trees.items():
                results[name].append(run_tree(tree, args, photo, scratch))
    rows = [
        ("cold start: stylenet-stylize, one photo (s)", "cold_s"),
        ("import of the serving modules (s)", "import_s"),
        (f"one {width}×{height} file, warm (s)", "file_s"),
        ("one 640×480 webcam frame, warm (ms)", "frame_s"),
    ]
    print(
        f"| {args.model} / {args.fast_model}, {args.rounds} rounds | before | after | after / before |"
    )
    print("|---|---:|---:|---:|")
    for label, key in rows:
        before = statistics.median(r[key] for r in results["before"])
        after = statistics.median(r[key] for r in results["after"])
        scale = 1000.0 if key == "frame_s" else 1.0
        print(f"| {label} | {before * scale:.3f} | {after * scale:.3f} | {after / before:.2f} |")


if __name__ == "__main__":
    main()
