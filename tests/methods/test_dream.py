"""DeepDream raises the layer's L2; octaves, guides and channels behave."""

from __future__ import annotations

import pytest
import torch

from stylenet.errors import ConfigError
from stylenet.methods.dream import deep_dream, guide_features, layer_objective, octave_sizes
from stylenet.nn.classifiers import VGGChannels
from stylenet.nn.vgg import VGGFeatures


@pytest.fixture(scope="module")
def features() -> VGGChannels:
    return VGGChannels(VGGFeatures(["relu2_1"], weights="random"), "relu2_1")


@pytest.mark.slow
def test_dreaming_raises_the_layers_l2(features) -> None:
    image = torch.rand(1, 3, 40, 48)
    dreamed, history = deep_dream(
        features.features, image, iterations=3, octaves=2, jitter=4, progress=False
    )
    assert dreamed.shape == image.shape
    assert dreamed.min() >= 0 and dreamed.max() <= 1
    with torch.no_grad():
        before = layer_objective(features.features(image))
        after = layer_objective(features.features(dreamed))
    assert after > 1.2 * before
    assert len(history) == 6
    assert history[2] > history[0]  # rises within the first octave


@pytest.mark.slow
def test_dreaming_one_channel_raises_that_channel(features) -> None:
    image = torch.rand(1, 3, 32, 32)
    dreamed, _ = deep_dream(
        features.features, image, iterations=4, octaves=1, channel=5, progress=False
    )
    with torch.no_grad():
        before = features.features(image)[:, 5].pow(2).sum()
        after = features.features(dreamed)[:, 5].pow(2).sum()
    assert after > before


@pytest.mark.slow
def test_guided_dream_moves_towards_the_guide(features) -> None:
    image = torch.rand(1, 3, 32, 32)
    guide_image = torch.zeros(1, 3, 32, 32)
    guide_image[:, 0] = 1.0  # pure red
    guide = guide_features(features.features, guide_image)
    _, history = deep_dream(
        features.features, image, iterations=5, octaves=1, guide=guide, jitter=0, progress=False
    )
    assert history[-1] > history[0]
    assert guide.shape[0] == 128


def test_step_is_l1_normalised_and_input_untouched(features) -> None:
    image = torch.full((1, 3, 32, 32), 0.5) + 0.01 * torch.randn(1, 3, 32, 32)
    before = image.clone()
    dreamed, _ = deep_dream(
        features.features, image, iterations=1, octaves=1, step_size=0.01, jitter=0, progress=False
    )
    assert torch.equal(image, before)
    assert (dreamed - image).abs().mean() == pytest.approx(0.01, rel=0.05)


def test_octave_sizes_and_bad_values() -> None:
    assert octave_sizes(100, 200, 3, 2.0) == [(25, 50), (50, 100), (100, 200)]
    with pytest.raises(ConfigError):
        octave_sizes(100, 200, 0, 2.0)
    with pytest.raises(ConfigError, match="out of range"):
        layer_objective(torch.rand(1, 4, 2, 2), channel=4)
