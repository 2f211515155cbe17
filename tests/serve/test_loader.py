from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from stylenet.errors import ModelFileError
from stylenet.export.onnx import export_onnx
from stylenet.model_card import ModelCard, card_path
from stylenet.nn.checkpoint import ModelInfo
from stylenet.nn.transformer import TransformerNet
from stylenet.resources import shipped_models_dir
from stylenet.serve import loader


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "exported"
    export_onnx(TransformerNet(0.125, 1), ModelInfo(["wave"]), folder / "wave.onnx")
    monkeypatch.setattr(loader, "shipped_models_dir", lambda: folder)
    return folder


@pytest.mark.slow
def test_short_name_resolves_to_the_shipped_model(shipped: Path) -> None:
    assert loader.shipped_models() == ["wave"]
    assert loader.resolve_model("wave") == shipped / "wave.onnx"
    stylizer = loader.load_stylizer("wave")
    assert stylizer.styles == ["wave"]
    assert stylizer(np.full((1, 3, 33, 35), 128, np.float32)).shape == (1, 3, 33, 35)


@pytest.mark.slow
def test_unknown_name_lists_the_shipped_ones(shipped: Path) -> None:
    with pytest.raises(ModelFileError, match=r"no shipped model named 'monet' \(shipped: wave\)"):
        loader.load_stylizer("monet")


def test_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="unknown model"):
        loader.load_stylizer(tmp_path / "model.h5")


@pytest.mark.slow
def test_shipped_models_are_described_from_their_cards(shipped: Path) -> None:
    card = ModelCard.read(card_path(shipped_models_dir() / "multi_style.onnx")).to_dict()
    card |= {"styles": ["a", "b"], "model": {"width": 0.25, "num_res_blocks": 3}}
    card |= {"facts": {"steps": 2000}, "file_size": 1_700_000}
    (shipped / "multi.json").write_text(json.dumps(card))
    (shipped / "partial.json").write_text(json.dumps({"styles": ["a"], "file_size": 1}))
    assert loader.describe_shipped("partial").endswith("(no model card)")
    line = loader.describe_shipped("multi")
    assert line.startswith("multi ") and "width 0.25, 3 res blocks" in line
    assert " 2000 steps " in line and "1.7 MB" in line and line.endswith("2 styles: a, b")
    (shipped / "broken.json").write_text("{not json")
    assert loader.describe_shipped("broken").endswith("(no model card)")
    assert loader.describe_shipped("absent").endswith("(no model card)")
