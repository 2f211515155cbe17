"""Gradient saliency: exact zeros where pixels cannot matter, neuron receptive fields, no side effects."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from stylenet.errors import ConfigError
from stylenet.methods import saliency


class LeftHalfNet(nn.Module):
    """A small random CNN that only sees the left half of the image (N×3×H×W → N×5)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, 8, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(8, 5),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = torch.zeros_like(x)
        mask[..., : x.shape[-1] // 2] = 1
        return self.net(x * mask)


@pytest.fixture
def model() -> nn.Module:
    return LeftHalfNet().eval()


@pytest.fixture
def image() -> torch.Tensor:
    return torch.rand(1, 3, 24, 32)


@pytest.mark.parametrize("method", ["vanilla", "smoothgrad", "guided_backprop"])
def test_zero_where_pixels_cannot_affect_the_score(method, model, image) -> None:
    target = saliency.pick_target(model(image), None)
    heat = getattr(saliency, method)(model, image, target)
    assert heat.shape == (24, 32)
    assert torch.all(heat[:, 16:] == 0)
    assert heat[:, :16].sum() > 0


def test_methods_leave_model_and_image_unchanged(model, image) -> None:
    before = image.clone()
    scores = model(image)
    plain = saliency.input_gradient(model, image, 0)
    saliency.guided_backprop(model, image, 0)
    assert torch.equal(image, before)
    assert not image.requires_grad
    assert torch.equal(model(image), scores)
    assert torch.equal(saliency.input_gradient(model, image, 0), plain)  # hooks are gone


def test_guided_backprop_differs_from_vanilla(model, image) -> None:
    guided = saliency.guided_gradient(model, image, 1)
    plain = saliency.input_gradient(model, image, 1)
    assert guided.shape == plain.shape
    assert not torch.allclose(guided, plain)


def test_guided_needs_relu_modules(image) -> None:
    model = nn.Sequential(nn.Conv2d(3, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    with pytest.raises(ConfigError, match="needs nn"):
        saliency.guided_backprop(model, image, 0)


def test_neuron_gradient_lives_in_its_receptive_field(model, image) -> None:
    # net.2 is the second 3×3 conv: a neuron there sees a 5×5 window of pixels.
    heat, (channel, y, x) = saliency.neuron_gradient(model, image, "net.2", 3, (10, 6))
    assert (channel, y, x) == (3, 10, 6)
    outside = heat.clone()
    outside[y - 2 : y + 3, x - 2 : x + 3] = 0
    assert torch.all(outside == 0)
    assert heat[y - 2 : y + 3, x - 2 : x + 3].sum() > 0


def test_neuron_defaults_to_most_active_channel_and_checks_range(model, image) -> None:
    _, (channel, y, x) = saliency.neuron_gradient(model, image, "net.1")
    assert 0 <= channel < 8 and 0 <= y < 24 and 0 <= x < 32
    with pytest.raises(ConfigError, match="out of range"):
        saliency.neuron_gradient(model, image, "net.1", channel=99)
    with pytest.raises(ConfigError, match="no layer"):
        saliency.neuron_gradient(model, image, "nope", channel=0)


def test_pick_target_checks_range() -> None:
    scores = torch.tensor([[0.1, 3.0, -1.0]])
    assert saliency.pick_target(scores, None) == 1
    assert saliency.pick_target(scores, 2) == 2
    with pytest.raises(ConfigError, match="out of range"):
        saliency.pick_target(scores, 3)
