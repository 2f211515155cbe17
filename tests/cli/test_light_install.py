"""The base install (no training extra): ``stylenet-stylize`` and ``stylenet-webcam`` on ONNX
models run with torch unimportable, and the commands that need the extra say so in one line.

Each command runs in a subprocess under ``tests/helpers/no_torch.py``, which blocks torch,
torchvision and Lightning and reports every attempt to import them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from stylenet.serve.loader import shipped_models
from tests.conftest import REPO, synthetic_rgb

NO_TORCH = REPO / "tests" / "helpers" / "no_torch.py"
CLEAN = "no_torch: attempted=[] loaded=[]"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not {"starry_night_fast", "multi_style"} <= set(shipped_models()),
        reason="needs the shipped models starry_night_fast and multi_style in exported/",
    ),
]


def run_without_torch(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, str(NO_TORCH), module, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def write_clip(path: Path, frames: int = 6, height: int = 48, width: int = 64) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 12.0, (width, height))
    for index in range(frames):
        writer.write(np.ascontiguousarray(synthetic_rgb(height, width, seed=index)[..., ::-1]))
    writer.release()
    return path


def assert_clean(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == CLEAN, proc.stderr


def test_stylize_an_image_with_a_blend_without_torch(tmp_path: Path) -> None:
    source = tmp_path / "photo.png"
    Image.fromarray(synthetic_rgb(48, 64)).save(source)
    out = tmp_path / "out.png"
    proc = run_without_torch(
        "stylenet.cli.stylize",
        "model=multi_style",
        f"input={source}",
        f"output={out}",
        "blend={starry_night: 0.7, wave: 0.3}",
        "preserve_color=true",
        "strength=0.8",
    )
    assert_clean(proc)
    result = np.asarray(Image.open(out))
    assert result.shape == (48, 64, 3)
    assert np.abs(result.astype(float) - synthetic_rgb(48, 64)).mean() > 1.0


def test_stylize_a_folder_and_a_video_without_torch(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    for index, name in enumerate(["a.jpg", "sub/b.png"]):
        Image.fromarray(synthetic_rgb(40, 56, seed=index)).save(photos / name)
    folder = run_without_torch(
        "stylenet.cli.stylize",
        "model=starry_night_fast",
        f"input={photos}",
        f"output={tmp_path / 'stylized'}",
    )
    assert_clean(folder)
    assert (tmp_path / "stylized" / "a.jpg").is_file()
    assert (tmp_path / "stylized" / "sub" / "b.png").is_file()
    clip = write_clip(tmp_path / "clip.mp4")
    video = run_without_torch(
        "stylenet.cli.stylize",
        "model=starry_night_fast",
        f"input={clip}",
        f"output={tmp_path / 'v.mp4'}",
    )
    assert_clean(video)
    capture = cv2.VideoCapture(str(tmp_path / "v.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 6
    capture.release()


def test_webcam_loop_on_a_clip_without_torch(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "camera.mp4", frames=8)
    out = tmp_path / "live.mp4"
    proc = run_without_torch(
        "stylenet.cli.webcam",
        "model=starry_night_fast",
        f"camera={clip}",
        "display=false",
        f"output={out}",
        "max_frames=4",
        "drop_frames=false",
    )
    assert_clean(proc)
    assert "stylized 4 frames" in proc.stdout and out.is_file()


def test_training_commands_ask_for_the_extra(tmp_path: Path) -> None:
    for verb in ("train", "export", "gatys"):
        proc = run_without_torch("stylenet.cli.launch", verb)
        assert proc.returncode == 2, proc.stderr
        first = proc.stderr.strip().splitlines()[0]
        assert first.startswith(f"stylenet: error: stylenet-{verb} needs the training extra: ")
        assert 'pip install "stylenet[train]"' in first and "Traceback" not in proc.stderr


def test_a_checkpoint_asks_for_the_extra(tmp_path: Path) -> None:
    checkpoint = tmp_path / "last.ckpt"
    checkpoint.write_bytes(b"not read: the extra is checked first")
    source = tmp_path / "photo.png"
    Image.fromarray(synthetic_rgb(40, 40)).save(source)
    proc = run_without_torch("stylenet.cli.stylize", f"model={checkpoint}", f"input={source}")
    assert proc.returncode == 2
    first = proc.stderr.strip().splitlines()[0]
    assert first.startswith("stylenet: error: the PyTorch checkpoint last.ckpt needs the training")
    assert "use an exported .onnx model" in first and "Traceback" not in proc.stderr
