from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from stylenet.errors import ModelFileError
from stylenet.export.bundle import export_bundle
from stylenet.export.weights import load_exported_transformer
from stylenet.model_card import card_path
from stylenet.nn.checkpoint import CHECKSUM_FACT, ModelInfo, load_transformer, weights_checksum
from stylenet.resources import shipped_models_dir
from tests.helpers.networks import STYLES, multi_style_net
from tests.helpers.paths import REPO


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    net = multi_style_net()
    facts = {"steps": 40, CHECKSUM_FACT: weights_checksum(net.state_dict())}
    path = tmp_path_factory.mktemp("exported") / "trio.onnx"
    export_bundle(net, ModelInfo(list(STYLES), facts), path, variants=["fp32", "fp16"])
    return path


def test_an_fp32_export_reads_back_as_the_network_it_was(exported: Path) -> None:
    net, info = load_exported_transformer(exported)
    original = multi_style_net()
    assert info.styles == STYLES and info.facts["steps"] == 40 and not net.training
    assert net.config == original.config
    for key, value in original.state_dict().items():
        assert torch.equal(net.state_dict()[key], value), key


def test_other_variants_and_altered_cards_are_refused(exported: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="fp16 export"):
        load_exported_transformer(exported.with_name("trio.fp16.onnx"))
    copy = tmp_path / "trio.onnx"
    copy.write_bytes(exported.read_bytes())
    card = json.loads(card_path(exported).read_text())
    card["facts"][CHECKSUM_FACT] = "0" * 64
    card_path(copy).write_text(json.dumps(card))
    with pytest.raises(ModelFileError, match="do not match its model card"):
        load_exported_transformer(copy)
    del card["facts"][CHECKSUM_FACT]
    card_path(copy).write_text(json.dumps(card))
    with pytest.raises(ModelFileError, match="no weights_sha256"):
        load_exported_transformer(copy)
    card_path(copy).unlink()
    with pytest.raises(ModelFileError, match="cannot read model card"):
        load_exported_transformer(copy)
    with pytest.raises(ModelFileError, match="not found"):
        load_exported_transformer(tmp_path / "missing.onnx")


def test_the_shipped_multi_style_model_is_its_training_checkpoint() -> None:
    model = shipped_models_dir() / "multi_style.onnx"
    checkpoint = REPO / "training" / "multi_style" / "checkpoints" / "last.ckpt"
    if not (model.is_file() and checkpoint.is_file()):
        pytest.skip("the shipped multi_style model or its checkpoint is not here")
    net, info = load_exported_transformer(model)
    trained, trained_info = load_transformer(checkpoint)
    assert info.styles == trained_info.styles and net.config == trained.config
    assert weights_checksum(net.state_dict()) == trained_info.facts[CHECKSUM_FACT]


def test_a_single_style_export_with_folded_norms_names_the_fix() -> None:
    model = shipped_models_dir() / "starry_night.onnx"
    if not model.is_file():
        pytest.skip("the shipped starry_night model is not here")
    with pytest.raises(ModelFileError, match=r"folded into the graph.*training checkpoint"):
        load_exported_transformer(model)
