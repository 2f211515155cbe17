"""Folder features: square loading, per-channel summaries that agree with the maps, Grams."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from stylenet.data.images import list_images
from stylenet.methods.folder_features import (
    PIXEL_SIDE,
    activation_summary,
    folder_features,
    gram_summary,
    load_square,
)
from stylenet.nn.vgg import VGGFeatures
from tests.conftest import synthetic_rgb


def test_load_square_centre_crops(tmp_path: Path) -> None:
    rgb = synthetic_rgb(40, 80)
    Image.fromarray(rgb).save(tmp_path / "wide.png")
    square = load_square(tmp_path / "wide.png", 40)
    assert square.shape == (3, 40, 40)
    expected = torch.from_numpy(rgb[:, 20:60]).permute(2, 0, 1).float() / 255
    assert torch.allclose(square, expected, atol=1e-5)


def test_activation_summary_agrees_with_the_maps(image_folder: Path) -> None:
    files = list_images(image_folder)
    vgg = VGGFeatures(["relu2_1"], weights="random")
    stats = folder_features(
        vgg, files, activation_summary("relu2_1"), size=32, batch_size=4, progress=False
    )
    n = len(files)
    assert stats["mean"].shape == (n, 128) and stats["peak"].shape == (n, 128)
    assert stats["where"].shape == (n, 128) and stats["pixels"].shape == (n, 3 * PIXEL_SIDE**2)
    np.testing.assert_array_equal(stats["grid"], np.tile([16, 16], (n, 1)))
    maps = vgg(load_square(files[3], 32)[None])["relu2_1"][0]
    c = 7
    y, x = divmod(int(stats["where"][3, c]), 16)
    assert np.isclose(float(maps[c, y, x]), stats["peak"][3, c], rtol=1e-4)
    assert np.isclose(float(maps[c].max()), stats["peak"][3, c], rtol=1e-4)
    assert np.isclose(float(maps[c].mean()), stats["mean"][3, c], rtol=1e-4)


def test_flat_outputs_and_grams() -> None:
    images = torch.rand(2, 3, 8, 8)
    flat = activation_summary("fc")(images, {"fc": torch.randn(2, 5)})
    assert flat["mean"].shape == (2, 5) and torch.equal(flat["mean"], flat["peak"])
    maps = {"a": torch.rand(2, 4, 6, 6), "b": torch.rand(2, 3, 3, 3)}
    gram = gram_summary(["a", "b"])(images, maps)["gram"]
    assert gram.shape == (2, 4 * 5 // 2 + 3 * 4 // 2)
    assert torch.allclose(gram[:, :10].norm(dim=1), torch.ones(2))


def test_peaks_can_be_limited_to_inside_units() -> None:
    maps = torch.zeros(1, 1, 6, 6)
    maps[0, 0, 0, 0] = 9.0  # a border unit
    maps[0, 0, 3, 2] = 5.0
    stats = activation_summary("x", inside=(1, 4))(torch.rand(1, 3, 8, 8), {"x": maps})
    assert float(stats["peak"][0, 0]) == 5.0 and int(stats["where"][0, 0]) == 3 * 6 + 2
    assert abs(float(stats["mean"][0, 0]) - 14.0 / 36) < 1e-6
