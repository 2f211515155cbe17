"""The base install (no extras): still images work without OpenCV, and videos, the webcam and
``WS /v1/live`` ask for the video extra in one line.

Each check runs in a subprocess under ``tests/helpers/no_torch.py --no-video``, which blocks
torch, Lightning and OpenCV (``cv2``) and reports every attempt to import them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylenet.serve.loader import shipped_models
from tests.conftest import REPO, synthetic_rgb

NO_TORCH = REPO / "tests" / "helpers" / "no_torch.py"
CLEAN = "no_torch: attempted=[] loaded=[]"
# OpenCV is looked for (importlib.util.find_spec), found missing and never loaded
LOOKED_FOR_CV2 = "no_torch: attempted=['cv2'] loaded=[]"
HINT = 'needs the video extra: pip install "stylenet[video]" (missing: opencv-python-headless)'

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not {"starry_night_fast", "multi_style"} <= set(shipped_models()),
        reason="needs the shipped models starry_night_fast and multi_style in exported/",
    ),
]


def run_base(module: str, *args: str, path: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``module`` run as on the base install: no torch, no OpenCV (``path``: more on
    PYTHONPATH)."""
    env = dict(os.environ)
    extra = [str(path) if path else None, str(REPO), env.get("PYTHONPATH")]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, extra))
    return subprocess.run(
        [sys.executable, str(NO_TORCH), "--no-video", module, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def last_line(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stderr.strip().splitlines()[-1]


def test_stylize_an_image_on_the_command_line_without_opencv(tmp_path: Path) -> None:
    source = tmp_path / "photo.png"
    Image.fromarray(synthetic_rgb(48, 64)).save(source)
    out = tmp_path / "out.png"
    proc = run_base(
        "stylenet.cli.stylize",
        "model=multi_style",
        f"input={source}",
        f"output={out}",
        "style=wave",
        "tile_size=32",  # tiled, with shared statistics from a thumbnail
        "tile_overlap=8",
    )
    assert proc.returncode == 0, proc.stderr
    assert last_line(proc) == CLEAN, proc.stderr
    result = np.asarray(Image.open(out))
    assert result.shape == (48, 64, 3)
    assert np.abs(result.astype(float) - synthetic_rgb(48, 64)).mean() > 1.0


def test_the_python_api_stylizes_an_image_without_opencv(tmp_path: Path) -> None:
    source = tmp_path / "photo.png"
    Image.fromarray(synthetic_rgb(40, 56)).save(source)
    (tmp_path / "api_call.py").write_text(
        textwrap.dedent(
            f"""
            import stylenet
            picture = stylenet.stylize({str(source)!r}, model="starry_night_fast")
            print("size", picture.size)
            """
        )
    )
    proc = run_base("api_call", path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "size (56, 40)" in proc.stdout
    assert last_line(proc) == CLEAN, proc.stderr


def test_a_video_input_asks_for_the_video_extra(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"not read: the extra is checked first")
    proc = run_base("stylenet.cli.stylize", "model=starry_night_fast", f"input={clip}")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0] == f"stylenet: error: stylizing the video clip.mp4 {HINT}"
    assert "Traceback" not in proc.stderr and lines[-1] == LOOKED_FOR_CV2


def test_a_video_in_a_batch_is_skipped_and_the_images_are_stylized(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    Image.fromarray(synthetic_rgb(40, 56)).save(inputs / "a.png")
    (inputs / "b.mp4").write_bytes(b"not read")
    proc = run_base(
        "stylenet.cli.stylize",
        "model=starry_night_fast",
        f"input={inputs}/*",
        f"output={tmp_path / 'out'}",
    )
    assert proc.returncode == 3, proc.stderr  # some inputs failed
    assert (tmp_path / "out" / "a.png").is_file()
    assert f"b.mp4: stylizing the video b.mp4 {HINT}" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_webcam_asks_for_the_video_extra(tmp_path: Path) -> None:
    proc = run_base("stylenet.cli.webcam", "model=starry_night_fast", "display=false")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0] == f"stylenet: error: stylenet-webcam {HINT}"
    assert "Traceback" not in proc.stderr and lines[-1] == LOOKED_FOR_CV2


def test_the_server_serves_images_and_refuses_live_without_opencv(tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    Image.fromarray(synthetic_rgb(40, 56)).save(photo)
    (tmp_path / "serve_calls.py").write_text(
        textwrap.dedent(
            f"""
            import io
            from fastapi.testclient import TestClient
            from PIL import Image
            from starlette.websockets import WebSocketDisconnect
            from stylenet.serve.http.app import create_app
            from stylenet.serve.http.settings import ServerSettings

            app = create_app(ServerSettings(models=("starry_night_fast",)))
            with TestClient(app) as client:
                for _ in range(600):
                    if client.get("/readyz").status_code == 200:
                        break
                    import time; time.sleep(0.1)
                print("page", client.get("/").status_code)
                body = open({str(photo)!r}, "rb").read()
                answer = client.post(
                    "/v1/stylize", files={{"image": ("photo.png", body, "image/png")}}
                )
                print("stylize", answer.status_code, Image.open(io.BytesIO(answer.content)).size)
                with client.websocket_connect("/v1/live?model=starry_night_fast") as ws:
                    print("live", ws.receive_json()["error"])
                    try:
                        ws.receive_bytes()
                    except WebSocketDisconnect as closed:
                        print("closed", closed.code)
            """
        )
    )
    proc = run_base("serve_calls", path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[:2] == ["page 200", "stylize 200 (56, 40)"], proc.stdout
    assert lines[2:] == [f"live WS /v1/live {HINT}", "closed 1008"], proc.stdout
    assert last_line(proc) == LOOKED_FOR_CV2, proc.stderr
