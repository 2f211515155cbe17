"""Filters as pictures: colour first-layer tiles, strongest inputs of deeper layers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from stylenet.errors import ConfigError
from stylenet.methods.filters import (
    check_channels,
    colour_filters,
    conv_weights,
    enlarge,
    rgb_order,
    strongest_inputs,
)


def test_colour_filters_map_zero_to_grey_and_peak_to_white() -> None:
    weight = torch.zeros(4, 3, 3, 3)
    weight[1, 0, 1, 1] = 2.0
    weight[1, 2, 0, 0] = -1.0
    tiles = colour_filters(weight)
    assert len(tiles) == 4 and tiles[0].shape == (3, 3, 3)
    assert torch.all(tiles[0] == 0.5)
    assert tiles[1][0, 1, 1] == 1.0 and tiles[1][2, 0, 0] == 0.25
    assert len(colour_filters(weight, [2, 3])) == 2
    with pytest.raises(ConfigError):
        colour_filters(torch.zeros(2, 4, 3, 3))


def test_bgr_weights_are_shown_as_rgb() -> None:
    weight = torch.arange(6.0).view(1, 3, 1, 2)
    rgb = rgb_order(weight, (2, 1, 0))
    assert torch.equal(rgb[0, 0], weight[0, 2]) and torch.equal(rgb[0, 2], weight[0, 0])


def test_strongest_inputs_come_first() -> None:
    weight = torch.zeros(2, 5, 3, 3)
    weight[0, 3] = 4.0
    weight[0, 1] = 1.0
    rows = strongest_inputs(weight, inputs=2)
    assert len(rows) == 2 and len(rows[0]) == 2 and rows[0][0].shape == (3, 3, 3)
    assert rows[0][0].mean() > rows[0][1].mean()  # input 3 (all max) is brighter than 1
    assert enlarge(rows[0][0], 12).shape == (3, 12, 12)


def test_conv_weights_and_channel_checks() -> None:
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 2, 1))
    weights = conv_weights(net)
    assert list(weights) == ["0", "2"] and weights["2"].shape == (2, 4, 1, 1)
    assert check_channels([0, 3], 4, "x") == [0, 3]
    with pytest.raises(ConfigError, match="0 … 3"):
        check_channels([4], 4, "x")
