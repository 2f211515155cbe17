"""Fooling images: the targeted attack raises the target inside the L∞ budget; FGSM hurts the label."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from stylenet.errors import ConfigError
from stylenet.methods.adversarial import fgsm, probabilities, targeted_attack


@pytest.fixture
def model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 5),
    ).eval()


@pytest.mark.slow
def test_targeted_attack_raises_the_target_class(model) -> None:
    image = torch.rand(1, 3, 32, 32)
    probs = probabilities(model, image)
    target = int(probs.argmin())
    result = targeted_attack(
        model, image, target, epsilon=0.1, step_size=0.02, steps=20, progress=False
    )
    assert result.target_confidence_after > result.target_confidence_before
    assert result.target_confidence_before == pytest.approx(float(probs[target]))
    assert result.linf <= 0.1 + 1e-6
    assert result.image.min() >= 0 and result.image.max() <= 1
    assert 1 <= result.steps <= 20
    assert result.l2 == pytest.approx(float((result.image - image).norm()))


def test_targeted_attack_stops_once_confident(model) -> None:
    image = torch.rand(1, 3, 32, 32)
    top = int(probabilities(model, image).argmax())
    result = targeted_attack(
        model, image, top, epsilon=0.1, steps=10, confidence=0.0, progress=False
    )
    assert result.steps == 1


def test_fgsm_lowers_the_label_and_respects_epsilon(model) -> None:
    image = torch.rand(1, 3, 32, 32)
    result = fgsm(model, image, epsilon=0.05)
    label = result.original_class
    assert probabilities(model, result.image)[label] < probabilities(model, image)[label]
    assert result.linf <= 0.05 + 1e-6
    assert result.target is None


def test_attacks_check_their_arguments(model) -> None:
    image = torch.rand(1, 3, 16, 16)
    with pytest.raises(ConfigError, match="epsilon"):
        fgsm(model, image, epsilon=0)
    with pytest.raises(ConfigError, match="out of range"):
        targeted_attack(model, image, target=7, progress=False)
