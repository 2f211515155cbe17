from __future__ import annotations

import numpy as np
import pytest
import torch

from stylenet.data.color import rgb_to_yiq
from stylenet.errors import ConfigError
from stylenet.losses import PerceptualLoss, gram_matrix
from stylenet.methods.gatys import (
    GatysObjective,
    StyleTargets,
    blended_grams,
    build_loss_network,
    dream_loss,
    gatys_transfer,
    style_blend,
)
from tests.helpers.images import synthetic_rgb

CONTENT_LAYERS = {"relu2_1": 1.0}
STYLE_LAYERS = {"relu1_1": 1.0, "relu2_1": 1.0}


def image(height: int = 40, width: int = 48, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(synthetic_rgb(height, width, seed)).permute(2, 0, 1).float() / 255


def make_loss(dream_layer: str | None = None, **weights: float) -> PerceptualLoss:
    options = {"content_weight": 1.0, "style_weight": 1e4, "tv_weight": 1e-2} | weights
    vgg = build_loss_network("random", "max", CONTENT_LAYERS, STYLE_LAYERS, dream_layer)
    return PerceptualLoss(CONTENT_LAYERS, STYLE_LAYERS, **options, vgg=vgg)


def style() -> StyleTargets:
    painting = torch.rand(3, 40, 40, generator=torch.Generator().manual_seed(3))
    return StyleTargets([painting], [1.0])


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_loss_falls_below_half_in_a_few_iterations(optimizer: str) -> None:
    iterations = 8 if optimizer == "lbfgs" else 25
    result = gatys_transfer(
        make_loss(),
        image(),
        style(),
        size=(40, 48),
        iterations=iterations,
        optimizer=optimizer,
        progress=False,
    )
    assert result.image.shape == (1, 3, 40, 48)
    assert len(result.history) == iterations
    assert result.history[-1] < 0.5 * result.history[0]
    assert result.loss <= min(result.history)  # the best iterate is returned
    assert result.image.min() >= 0 and result.image.max() <= 1


@pytest.mark.slow
def test_bf16_autocast_still_optimises() -> None:
    result = gatys_transfer(
        make_loss(),
        image(),
        style(),
        size=(40, 48),
        iterations=8,
        dtype=torch.bfloat16,
        progress=False,
    )
    assert result.image.dtype == torch.float32
    assert result.history[-1] < 0.5 * result.history[0]


@pytest.mark.slow
def test_texture_synthesis_from_noise_any_size() -> None:
    result = gatys_transfer(
        make_loss(), None, style(), size=(36, 60), iterations=8, init="noise", progress=False
    )
    assert result.image.shape == (1, 3, 36, 60)
    assert result.history[-1] < 0.5 * result.history[0]


def test_texture_needs_noise_or_an_image_to_start() -> None:
    with pytest.raises(ConfigError, match="init=content needs a content image"):
        gatys_transfer(
            make_loss(), None, style(), size=(32, 32), iterations=1, init="content", progress=False
        )


def test_coarse_to_fine_runs_every_scale_and_reports_steps() -> None:
    seen: list[tuple[int, int, tuple[int, ...]]] = []
    result = gatys_transfer(
        make_loss(),
        image(64, 96),
        style(),
        size=(64, 96),
        iterations=[3, 2],
        num_scales=2,
        on_step=lambda s, i, im: seen.append((s, i, tuple(im.shape))),
        progress=False,
    )
    assert [(s, i) for s, i, _ in seen] == [(0, 1), (0, 2), (0, 3), (1, 1), (1, 2)]
    assert seen[0][2] == (1, 3, 32, 48) and seen[-1][2] == (1, 3, 64, 96)
    assert result.image.shape == (1, 3, 64, 96)


def test_blend_weights_are_validated_and_normalised() -> None:
    two, three = [image(), image()], [image()] * 3
    assert style_blend(StyleTargets(two, [3, 1])) == [0.75, 0.25]
    assert style_blend(StyleTargets(three)) == pytest.approx([1 / 3] * 3)
    with pytest.raises(ConfigError, match="style_blend has 1 weight"):
        style_blend(StyleTargets(two, [1.0]))
    with pytest.raises(ConfigError, match=">= 0 and not all zero"):
        style_blend(StyleTargets(two, [1.0, -0.5]))
    with pytest.raises(ConfigError, match="not all zero"):
        style_blend(StyleTargets(two, [0, 0]))
    with pytest.raises(ConfigError, match="at least one style image"):
        style_blend(StyleTargets([]))


def test_blended_grams_are_the_weighted_mix() -> None:
    loss = make_loss()
    a, b = image(seed=1), image(seed=2) * 0.5
    mixed = blended_grams(loss, [a, b], [0.7, 0.3])
    feats_a, feats_b = loss.vgg(a[None]), loss.vgg(b[None])
    for layer in STYLE_LAYERS:
        expected = 0.7 * gram_matrix(feats_a[layer])[0] + 0.3 * gram_matrix(feats_b[layer])[0]
        torch.testing.assert_close(mixed[layer], expected, rtol=1e-4, atol=1e-6)


@pytest.mark.slow
def test_original_colors_keeps_the_photo_chroma() -> None:
    content = image()
    runs = {
        keep: gatys_transfer(
            make_loss(),
            content,
            style(),
            size=(40, 48),
            iterations=6,
            original_colors=keep,
            progress=False,
        ).image
        for keep in (False, True)
    }
    chroma = rgb_to_yiq(content[None].numpy(), channel_axis=-3)[:, 1:]
    error = {
        k: float(np.abs(rgb_to_yiq(v.numpy(), channel_axis=-3)[:, 1:] - chroma).mean())
        for k, v in runs.items()
    }
    assert error[True] < 0.02
    assert error[True] < 0.25 * error[False]


@pytest.mark.slow
def test_dream_term_raises_the_layer_energy() -> None:
    content = image()
    energy = {}
    for weight in (0.0, 50.0):
        loss = make_loss(dream_layer="relu3_1")
        out = gatys_transfer(
            loss,
            content,
            style(),
            size=(40, 48),
            iterations=6,
            dream_layer="relu3_1",
            dream_weight=weight,
            progress=False,
        ).image
        energy[weight] = -dream_loss(loss.vgg(out), "relu3_1").item()
    assert energy[50.0] > 1.2 * energy[0.0]


def test_objective_reports_each_term_once() -> None:
    loss = make_loss(dream_layer="relu1_1")
    loss.set_styles([image(seed=4)])
    content = image()[None]
    objective = GatysObjective(loss, loss.content_targets(content), "relu1_1", 1.0)
    terms = objective(content)
    assert set(terms) == {"content", "style", "tv", "dream"}
    assert terms["content"].item() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ConfigError, match="dream_layer 'relu5_1'"):
        GatysObjective(loss, None, "relu5_1", 1.0)


def test_style_scale_must_be_positive() -> None:
    bad = StyleTargets(style().images, [1.0], scale=0.0)
    with pytest.raises(ConfigError, match="style_scale must be > 0"):
        gatys_transfer(make_loss(), image(), bad, size=(40, 48), iterations=1, progress=False)
