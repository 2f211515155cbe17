from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def test_without_cuda_it_runs_the_cpu_parts_and_lists_what_it_skipped() -> None:
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")  # CPU-only, even on a CUDA machine
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gpu_check.py"), "--quick"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "| part | setting | result |" in out
    cpu_losses = next(line for line in out.splitlines() if line.startswith("| parity | CPU fp32"))
    losses = [float(v) for v in cpu_losses.split("|")[3].split()]
    assert len(losses) == 2 and all(torch.isfinite(torch.tensor(losses)))
    assert "| onnx | starry_night_fast fp32, CPU, 640x480 |" in out
    skipped = out.split("Skipped:")[1]
    for part in ("parity: CUDA", "speed:", "trainer:", "onnx: CUDAExecutionProvider", "webcam:"):
        assert f"- {part}" in skipped, part
