from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from stylenet.losses import PerceptualLoss
from tests.helpers.scripts import load_script

style_pull = load_script("style_pull")


@pytest.mark.slow
def test_a_painting_like_the_photos_pulls_less(tmp_path: Path) -> None:
    grey = tmp_path / "grey.png"
    Image.new("RGB", (48, 48), (128, 128, 128)).save(grey)
    stripes = tmp_path / "stripes.png"
    pattern = torch.zeros(48, 48, 3, dtype=torch.uint8)
    pattern[::4, :, 0] = 255
    pattern[:, ::3, 2] = 255
    Image.fromarray(pattern.numpy()).save(stripes)
    torch.manual_seed(0)
    loss = PerceptualLoss({"relu2_1": 1.0}, {"relu1_1": 1.0}, 1.0, 1e4, 0.0, weights="random")
    photos = [0.5 + 0.02 * torch.randn(3, 32, 32) for _ in range(2)]  # nearly flat grey
    pulls = {p.painting: p.photo_style for p in style_pull.measure([grey, stripes], photos, loss)}
    assert 0 < pulls["grey"] < pulls["stripes"]


def test_weights_even_out_the_pull_against_the_reference() -> None:
    pulls = [style_pull.Pull("ref", 2e6), style_pull.Pull("near", 1e6), style_pull.Pull("far", 4e6)]
    weights = style_pull.suggested_weights(pulls, "ref", base_weight=2.0, headroom=1.5)
    assert weights == pytest.approx({"ref": 2.0, "near": 6.0, "far": 1.5})


def test_unknown_reference_is_an_error() -> None:
    with pytest.raises(ValueError, match="reference painting 'nope'"):
        style_pull.suggested_weights([style_pull.Pull("a", 1.0)], "nope", 2.0, 1.3)
