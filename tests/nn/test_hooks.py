"""Hooks: several layers' activations from one forward pass, the model left unchanged."""

from __future__ import annotations

import torch
from torch import nn

from stylenet.nn.hooks import layers_function


def test_layers_function_reads_several_layers_in_one_pass() -> None:
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 2, 3)).eval()
    calls = []
    net.register_forward_hook(lambda *_: calls.append(1))
    x = torch.rand(2, 3, 10, 10)
    maps = layers_function(net, ["1", "2"])(x)
    assert len(calls) == 1
    assert maps["1"].shape == (2, 4, 8, 8) and torch.allclose(maps["2"], net(x))
    assert not net[1]._forward_hooks  # hooks removed
