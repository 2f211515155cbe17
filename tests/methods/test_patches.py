"""Top patches: the strongest photos per channel, cropped by the unit's receptive field."""

from __future__ import annotations

import numpy as np
import torch

from stylenet.methods.patches import crop_patch, strongest_channels, top_units, unit_patch
from stylenet.methods.receptive_field import ReceptiveField


def test_top_units_are_the_strongest_photos_with_their_positions() -> None:
    peak = np.array([[1.0, 5.0], [3.0, 2.0], [2.0, 9.0]])
    where = np.array([[0, 5], [7, 1], [3, 11]])
    grid = np.array([[4, 4]] * 3)
    units = top_units(peak, where, grid, channel=1, k=2)
    assert [(u.image, u.y, u.x, u.value) for u in units] == [(2, 2, 3, 9.0), (0, 1, 1, 5.0)]
    assert strongest_channels(peak, 1) == [1]


def test_crop_pads_outside_the_image_with_grey() -> None:
    image = torch.rand(3, 10, 12)
    inside = crop_patch(image, (2, 3, 6, 9))
    assert torch.equal(inside, image[:, 2:6, 3:9])
    corner = crop_patch(image, (-2, -3, 3, 2))
    assert corner.shape == (3, 5, 5)
    assert torch.all(corner[:, :2] == 0.5) and torch.all(corner[:, :, :3] == 0.5)
    assert torch.equal(corner[:, 2:, 3:], image[:, :3, :2])


def test_unit_patch_is_the_field_resized() -> None:
    image = torch.rand(3, 32, 32)
    field = ReceptiveField(size=10, jump=2, start=0.5)
    from stylenet.methods.patches import Unit

    patch = unit_patch(image, Unit(0, 5, 6, 1.0), field, tile=20)
    assert patch.shape == (3, 20, 20)
    top, left, bottom, right = field.box(5, 6)
    assert (bottom - top, right - left) == (10, 10)
