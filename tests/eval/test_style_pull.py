"""A painting's pull on photos and the automatic style weight that evens it out."""

from __future__ import annotations

import pytest
import torch

from stylenet.errors import ConfigError
from stylenet.eval.style_pull import auto_style_weight, style_pull
from stylenet.losses import PerceptualLoss


def random_loss() -> PerceptualLoss:
    return PerceptualLoss(
        weights="random",
        content_layers={"relu2_1": 1.0},
        style_layers={"relu1_1": 1.0, "relu2_1": 1.0},
        style_weight=1.0,
    )


@pytest.mark.slow
def test_a_painting_like_the_photos_pulls_less_and_gets_a_larger_weight() -> None:
    torch.manual_seed(0)
    photos = [torch.rand(3, 48, 48) * 0.2 + 0.4 for _ in range(3)]  # grey, low contrast
    loss = random_loss()
    loss.set_styles([torch.rand(3, 64, 64) * 0.2 + 0.4])  # much like them
    near = style_pull(loss, photos)
    loss.set_styles([(torch.rand(3, 64, 64) > 0.5).float()])  # black and white noise
    far = style_pull(loss, photos)
    assert 0 < near < far
    weights = [auto_style_weight(p, target=far, style_weight=2.0) for p in (near, far)]
    assert weights[1] == pytest.approx(2.0) and weights[0] > 2.0
    assert weights[0] == pytest.approx(2.0 * far / near)


def test_auto_style_weight_rejects_what_cannot_be_evened_out() -> None:
    with pytest.raises(ConfigError, match="cannot be evened out"):
        auto_style_weight(0.0, target=1.0, style_weight=2.0)
    with pytest.raises(ConfigError, match=r"auto_style_weight\.pull"):
        auto_style_weight(1.0, target=-1.0, style_weight=2.0)
    with pytest.raises(ConfigError, match="at least one photo"):
        style_pull(random_loss(), [])
