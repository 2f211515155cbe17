from __future__ import annotations

import pytest
import torch

from stylenet.losses import PerceptualLoss
from tests.helpers.scripts import load_script

pytestmark = pytest.mark.slow

measure = load_script("measure_range_penalty")


def tiny_loss() -> PerceptualLoss:
    loss = PerceptualLoss({"relu2_1": 1.0}, {"relu1_1": 1.0}, 1.0, 1e4, 0.0, weights="random")
    loss.set_styles([torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(1))])
    return loss


def test_curve_scores_every_checkpoint_and_the_table_has_a_row_per_run() -> None:
    photo = torch.rand(1, 3, 32, 40, generator=torch.Generator().manual_seed(0))
    curve = measure.clamped_curve(tiny_loss(), photo, 0.0, [1, 3])
    assert list(curve) == [1, 3] and all(value > 0 for value in curve.values())
    text = measure.table({("a.jpg", 0.0): curve, ("a.jpg", 1000.0): curve}, [1, 3])
    lines = text.splitlines()
    assert lines[0] == "| photo | range_weight | 1 it | 3 it |" and len(lines) == 4
    assert lines[3].startswith("| a.jpg | 1000 |")


def test_inversion_error_falls_below_the_noise_start(monkeypatch) -> None:
    from stylenet.nn import vgg as vgg_module

    real = vgg_module.VGGFeatures
    monkeypatch.setattr(measure, "VGGFeatures", lambda layers, weights: real(layers, "random"))
    photo = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(5))  # start: seed 0
    noise = measure.inversion_error(photo, "relu1_1", 1000.0, iterations=0)  # the start
    inverted = measure.inversion_error(photo, "relu1_1", 1000.0, iterations=20)
    assert 0 <= inverted < 0.5 * noise
