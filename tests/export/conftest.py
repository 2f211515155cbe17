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

# Fixtures that run the exporter (seconds on a 2-core CPU, once per module): the tests here
# that take one are marked slow (``-m "not slow"`` leaves them out); ``bundle`` and
# ``exported`` are the variant and weight tests' own.
EXPORTING_FIXTURES = frozenset({"single", "multi", "bundle", "exported"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if item.path.is_relative_to(here) and fixtures & EXPORTING_FIXTURES:
            item.add_marker(pytest.mark.slow)


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
