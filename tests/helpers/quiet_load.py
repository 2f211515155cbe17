"""Load ONNX models in a fresh process and return what it wrote to stderr (where ONNX Runtime
logs, at the C level, so only a subprocess sees it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.paths import REPO

# Each model: a plain ONNX Runtime session (what an app does) at the default log level, then
# the stylizer with every tiling graph it has (statistics graph, layer graphs) opened and run.
_SCRIPT = """
import sys
import numpy as np
import onnxruntime as ort
from stylenet.serve.runtime import OnnxStylizer

image = np.full((1, 3, 40, 44), 128.0, dtype=np.float32)
for path in sys.argv[1:]:
    ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    stylizer = OnnxStylizer(path, providers=["CPUExecutionProvider"])
    stylizer(image)
    if stylizer.statistics_channels:
        stylizer(image, statistics=stylizer.statistics(image))
    if stylizer.has_layers:
        layers = stylizer.layers()
        layers.convolve(0, np.zeros((1, 3, 9, 9), dtype=np.float32))
print("loaded", len(sys.argv) - 1)
"""


def load_stderr(paths: list[Path]) -> tuple[str, str]:
    """``(stdout, stderr)`` of a fresh Python that loads and runs each model in ``paths``."""
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
        check=False,
    )
    return done.stdout, done.stderr
