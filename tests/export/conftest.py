"""Tiny networks exported once per test module (the exporter takes a few seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stylenet.export.onnx import export_onnx
from stylenet.nn.checkpoint import ModelInfo
from stylenet.nn.transformer import TransformerNet
from tests.helpers.networks import FACTS, STYLES, multi_style_net, tiny_net

__all__ = ["FACTS", "STYLES", "multi_style_net", "tiny_net"]


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> tuple[TransformerNet, Path]:
    torch.manual_seed(0)
    net = tiny_net()
    path = tmp_path_factory.mktemp("single") / "starry.onnx"
    export_onnx(net, ModelInfo(["starry"], dict(FACTS)), path)
    return net, path


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory) -> tuple[TransformerNet, Path]:
    net = multi_style_net()
    path = tmp_path_factory.mktemp("multi") / "trio.onnx"
    export_onnx(net, ModelInfo(list(STYLES), dict(FACTS)), path)
    return net, path
