"""The ONNX Runtime side of serving imports no torch (the base install has none), and its
still-image side no OpenCV (the video extra's)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

TORCH_FREE = [
    "stylenet.styles",
    "stylenet.extras",
    "stylenet.data.image_files",
    "stylenet.data.color",
    "stylenet.serve.stylizer",
    "stylenet.serve.runtime",
    "stylenet.serve.loader",
    "stylenet.serve.pipeline",
    "stylenet.serve.tiling",
    "stylenet.serve.blend",
    "stylenet.serve.figure",
    "stylenet.serve.frames",
    "stylenet.serve.temporal",
    "stylenet.serve.video",
    "stylenet.serve.camera",
    "stylenet.serve.live",
    "stylenet.serve.sinks",
    "stylenet.cli.stylize",
    "stylenet.cli.webcam",
    "stylenet.cli.launch",
    "stylenet.cli.serve",
    "stylenet.serve.http.app",
    "stylenet.serve.http.inference",
    "stylenet.serve.http.live",
    "stylenet.serve.http.routes",
]

# the video extra's modules (they import OpenCV); the webcam command and WS /v1/live import
# them when they run, so every other module imports without it
NEEDS_OPENCV = {
    "stylenet.serve.frames",
    "stylenet.serve.temporal",
    "stylenet.serve.video",
    "stylenet.serve.camera",
    "stylenet.serve.live",
    "stylenet.serve.sinks",
}
OPENCV_FREE = [m for m in TORCH_FREE if m not in NEEDS_OPENCV] + [
    "stylenet",
    "stylenet.api",
    "stylenet.data.video_files",
]


@pytest.mark.parametrize(
    ("modules", "flags"), [(TORCH_FREE, ()), (OPENCV_FREE, ("--no-video",))], ids=["torch", "cv2"]
)
def test_the_onnx_serving_modules_import_without_torch(
    tmp_path: Path, modules: list[str], flags: tuple[str, ...]
) -> None:
    lines = ["import importlib", *(f"importlib.import_module({m!r})" for m in modules)]
    (tmp_path / "import_all.py").write_text("\n".join(lines) + "\n")
    env = dict(os.environ)
    path = [str(tmp_path), str(REPO), env.get("PYTHONPATH")]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, path))
    proc = subprocess.run(
        [sys.executable, str(REPO / "tests" / "helpers" / "no_torch.py"), *flags, "import_all"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "no_torch: attempted=[] loaded=[]"
