"""Activation tiles: one shared scale, the maps' aspect ratio, the busiest channels."""

from __future__ import annotations

import torch

from stylenet.methods.activations import activation_tiles, busiest_channels


def test_tiles_share_one_scale() -> None:
    maps = torch.zeros(3, 4, 8)
    maps[0] = 1.0
    maps[2, 0, 0] = 4.0
    tiles, low, high = activation_tiles(maps, [0, 2], side=16)
    assert (low, high) == (0.0, 4.0)
    assert len(tiles) == 2 and tiles[0].shape == (3, 8, 16)
    # channel 0 is a quarter of the scale everywhere: one colour, darker than channel 2's peak
    assert torch.allclose(tiles[0], tiles[0][:, :1, :1].expand_as(tiles[0]))
    assert tiles[1][:, 0, 0].sum() > tiles[0][:, 0, 0].sum()


def test_busiest_channels() -> None:
    maps = torch.zeros(4, 2, 2)
    maps[2] = 3.0
    maps[0] = 1.0
    assert busiest_channels(maps, 2) == [2, 0]
