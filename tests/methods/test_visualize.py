"""Class/neuron visualisation: the score rises; regularisers do what they say."""

from __future__ import annotations

import torch
from torch import nn

from stylenet.methods.visualize import Regularizers, _regularize, gaussian_blur, visualize


def tiny_classifier() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 4),
    ).eval()


def test_class_visualization_raises_the_class_score() -> None:
    model = tiny_classifier()
    image, history = visualize(
        lambda x: model(x)[0, 2], size=(24, 24), steps=15, lr=0.02, progress=False
    )
    assert image.shape == (1, 3, 24, 24)
    assert image.min() >= 0 and image.max() <= 1
    assert history[-1] > history[0]


def test_gaussian_blur_keeps_constants_and_smooths_noise() -> None:
    flat = torch.full((1, 3, 10, 12), 0.3)
    torch.testing.assert_close(gaussian_blur(flat, 1.0), flat)
    noise = torch.rand(1, 3, 16, 16)
    assert gaussian_blur(noise, 1.0).std() < noise.std()
    assert gaussian_blur(noise, 1.0).shape == noise.shape


def test_regularizers_decay_and_clip() -> None:
    x = torch.rand(1, 3, 8, 8)
    grad = torch.randn(1, 3, 8, 8)
    decayed = _regularize(x, grad, Regularizers(l2_decay=0.5, blur_every=0, jitter=0), step=0)
    torch.testing.assert_close(decayed - 0.5, (x - 0.5) * 0.5)
    clipped = _regularize(
        x, grad, Regularizers(l2_decay=0.0, blur_every=0, norm_pct=50, jitter=0), step=0
    )
    grey = (clipped == 0.5).all(dim=1)
    assert 0.4 < grey.float().mean() < 0.6
    by_contribution = _regularize(
        x, grad, Regularizers(l2_decay=0.0, blur_every=0, contrib_pct=75, jitter=0), step=0
    )
    assert 0.65 < (by_contribution == 0.5).all(dim=1).float().mean() < 0.85
