"""Tiny networks exported once per test module (the exporter takes a few seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stylenet.export.onnx import export_onnx
from stylenet.nn.checkpoint import ModelInfo
from stylenet.nn.transformer import TransformerNet

STYLES = ["starry", "wave", "udnie"]
FACTS = {"steps": 40000, "content_weight": 1.0, "style_weight": 5.0}


def tiny_net(**kwargs) -> TransformerNet:
    return TransformerNet(width=0.125, num_res_blocks=1, **kwargs).eval()


def multi_style_net() -> TransformerNet:
    """A 3-style conditional-instance-norm net with distinct random (γ, β) per style."""
    torch.manual_seed(1)
    net = tiny_net(norm="conditional_instance", num_styles=len(STYLES))
    with torch.no_grad():
        for module in net.modules():
            if hasattr(module, "gamma"):
                module.gamma.uniform_(0.3, 1.7)
                module.beta.normal_(0.0, 0.5)
    return net


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
