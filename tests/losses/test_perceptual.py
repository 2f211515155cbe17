from __future__ import annotations

import pytest
import torch

from stylenet.errors import ConfigError
from stylenet.losses import PerceptualLoss, gram_matrix, mix_grams
from tests.helpers.devices import requires_cuda


def make_loss(**overrides) -> PerceptualLoss:
    options = dict(
        content_layers={"relu2_1": 1.0},
        style_layers={"relu1_1": 1.0, "relu2_1": 0.5},
        content_weight=1.0,
        style_weight=10.0,
        tv_weight=0.0,
        weights="random",
    )
    options.update(overrides)
    return PerceptualLoss(**options)


def test_losses_are_zero_at_their_targets() -> None:
    loss = make_loss()
    style = torch.rand(3, 32, 32)
    loss.set_styles([style])
    terms = loss(style.unsqueeze(0), style.unsqueeze(0))
    assert terms.content.item() == pytest.approx(0.0, abs=1e-8)
    assert terms.style.item() == pytest.approx(0.0, abs=1e-8)
    assert terms.total.shape == (1,)


def test_gradients_reach_the_image_but_not_vgg() -> None:
    loss = make_loss(tv_weight=1.0)
    loss.set_styles([torch.rand(3, 32, 32)])
    image = torch.rand(2, 3, 32, 32, requires_grad=True)
    terms = loss(image, torch.rand(2, 3, 32, 32))
    assert (terms.content > 0).all() and (terms.style > 0).all() and (terms.tv > 0).all()
    terms.total.sum().backward()
    assert image.grad is not None and image.grad.abs().sum() > 0
    assert list(loss.parameters()) == []


def test_per_image_style_weights_select_targets() -> None:
    loss = make_loss()
    a, b = torch.rand(3, 32, 32), torch.rand(3, 32, 32) * 0.3
    loss.set_styles([a, b])
    batch = torch.stack([a, b])
    one_hot = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    torch.testing.assert_close(
        loss(batch, None, one_hot).style, torch.zeros(2), atol=1e-8, rtol=1e-5
    )
    swapped = loss(batch, None, one_hot.flip(0)).style
    assert (swapped > 1e-6).all()


def test_mixed_targets_equal_mix_of_grams() -> None:
    loss = make_loss()
    a, b = torch.rand(3, 32, 32), torch.rand(3, 32, 32)
    mixed = mix_grams([loss.style_grams(a), loss.style_grams(b)], [0.7, 0.3])
    loss.set_styles([a, b])
    targets = loss.target_grams(torch.tensor([[0.7, 0.3]]), batch=1)
    for layer in loss.style_layers:
        torch.testing.assert_close(targets[layer][0], mixed[layer], atol=1e-6, rtol=1e-5)


def test_style_grams_match_gram_of_features() -> None:
    loss = make_loss()
    style = torch.rand(1, 3, 32, 32)
    grams = loss.style_grams(style)
    torch.testing.assert_close(grams["relu1_1"], gram_matrix(loss.vgg(style)["relu1_1"])[0])


def test_texture_mode_has_no_content_term() -> None:
    loss = make_loss()
    loss.set_styles([torch.rand(3, 32, 32)])
    terms = loss(torch.rand(1, 3, 32, 32))
    assert terms.content.item() == 0.0 and terms.style.item() > 0


def test_bad_values_raise_config_errors() -> None:
    with pytest.raises(ConfigError, match="style_weight"):
        make_loss(style_weight=-1.0)
    with pytest.raises(ConfigError):
        make_loss(style_layers={"relu1_1": "heavy"})
    with pytest.raises(ConfigError):
        make_loss().set_styles([])


@requires_cuda
def test_loss_on_cuda_matches_cpu() -> None:
    loss = make_loss()
    style, content, output = (
        torch.rand(3, 32, 32),
        torch.rand(2, 3, 32, 32),
        torch.rand(2, 3, 32, 32),
    )
    loss.set_styles([style])
    expected = loss(output, content)
    gpu = loss.to("cuda")
    gpu.set_styles([style.cuda()])
    got = gpu(output.cuda(), content.cuda())
    for name in ("content", "style", "tv"):
        torch.testing.assert_close(
            getattr(got, name).cpu(), getattr(expected, name), rtol=1e-3, atol=1e-6
        )
