from __future__ import annotations

import math

import pytest
import torch

from stylenet.methods.invert import invert_layer, labelled_strip
from stylenet.nn.vgg import VGGFeatures
from tests.helpers.images import synthetic_rgb


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return 10 * math.log10(1.0 / (a - b).pow(2).mean().item())


@pytest.mark.slow
def test_relu1_1_inversion_reconstructs_the_image() -> None:
    target = torch.from_numpy(synthetic_rgb(32, 40)).permute(2, 0, 1).float()[None] / 255
    vgg = VGGFeatures(["relu1_1"], weights="random")
    result = invert_layer(vgg, target, "relu1_1", iterations=60, tv_weight=1e-4, progress=False)
    start = torch.rand(target.shape, generator=torch.Generator().manual_seed(0))
    assert psnr(result.image, target) > 25.0
    assert psnr(start, target) < 10.0
    assert result.history[-1] < 1e-2 * result.history[0]


def test_strip_has_one_tile_per_image_and_a_label_band() -> None:
    images = [torch.rand(3, 20, 30) for _ in range(3)]
    strip = labelled_strip(images, ["original", "relu1_1", "relu2_1"])
    assert strip.size == (90, 20 + 18)
