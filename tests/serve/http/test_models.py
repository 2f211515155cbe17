from __future__ import annotations

from pathlib import Path

import pytest

from stylenet.errors import ConfigError
from stylenet.serve.http.models import model_files


def test_a_folder_gives_its_models_not_their_layer_graphs(tmp_path: Path) -> None:
    for name in ("wave.onnx", "wave.layers.onnx", "wave.fp16.onnx", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in model_files([str(tmp_path)])] == ["wave.fp16.onnx", "wave.onnx"]
    (tmp_path / "wave.onnx").unlink()
    (tmp_path / "wave.fp16.onnx").unlink()
    with pytest.raises(ConfigError, match=r"has no \.onnx files"):
        model_files([str(tmp_path)])
