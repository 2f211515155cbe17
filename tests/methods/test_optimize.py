from __future__ import annotations

import inspect
import math

import pytest
import torch

from stylenet.errors import ConfigError, StylenetError
from stylenet.methods.gatys import gatys_transfer
from stylenet.methods.invert import invert_layer
from stylenet.methods.optimize import BestIterate, optimize_image, with_range_penalty

TARGET = 0.3


def quadratic(image: torch.Tensor) -> dict[str, torch.Tensor]:
    return {"distance": (image - TARGET).pow(2).sum()}


def start() -> torch.Tensor:
    return torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(0))


def test_lbfgs_reaches_the_minimum_and_leaves_the_start_alone() -> None:
    init = start()
    before = init.clone()
    result = optimize_image(quadratic, init, iterations=10, progress=False)
    assert torch.equal(init, before)
    assert result.image.shape == init.shape
    assert result.loss < 1e-6 * result.history[0]
    torch.testing.assert_close(result.image, torch.full_like(init, TARGET), atol=1e-3, rtol=1e-5)


def test_the_lowest_loss_iterate_is_returned_not_the_last() -> None:
    # Adam at a large rate overshoots and oscillates around the minimum: not monotone.
    result = optimize_image(
        quadratic, start(), iterations=25, optimizer="adam", lr=0.1, progress=False
    )
    assert min(result.history) < result.history[-1]  # the run did get worse again
    assert result.loss <= min(result.history)
    assert math.isclose(float(quadratic(result.image)["distance"]), result.loss, rel_tol=1e-5)


def test_on_step_can_stop_the_run() -> None:
    seen: list[int] = []

    def stop_at_three(step: int, image: torch.Tensor) -> bool:
        seen.append(step)
        assert float(image.min()) >= 0 and float(image.max()) <= 1
        return step == 3

    result = optimize_image(
        quadratic, start(), iterations=50, on_step=stop_at_three, progress=False
    )
    assert seen == [1, 2, 3] and len(result.history) == 3


def test_zero_iterations_return_the_clamped_start() -> None:
    init = start() * 3 - 1
    result = optimize_image(quadratic, init, iterations=0, progress=False)
    assert torch.equal(result.image, init.clamp(0, 1)) and result.history == []
    assert math.isnan(result.loss)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"optimizer": "sgd"}, "optimizer must be one of"),
        ({"lr": 0.0}, "lr must be > 0"),
        ({"iterations": -1}, "iterations must be >= 0"),
    ],
)
def test_bad_settings_are_config_errors(kwargs: dict, match: str) -> None:
    settings = {"iterations": 2, **kwargs}
    with pytest.raises(ConfigError, match=match):
        optimize_image(quadratic, start(), progress=False, **settings)


def test_a_non_finite_loss_says_what_to_change() -> None:
    def exploding(image: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"bad": image.sum() * math.inf}

    with pytest.raises(StylenetError, match="lower lr="):
        optimize_image(exploding, start(), iterations=3, progress=False)


def test_best_iterate_keeps_a_copy() -> None:
    best = BestIterate()
    image = torch.zeros(2)
    best.offer(2.0, image)
    image += 1  # the caller's tensor changes afterwards
    best.offer(3.0, image)
    assert best.loss == 2.0 and torch.equal(best.image, torch.zeros(2))


def test_the_range_penalty_is_relative_to_the_start_loss() -> None:
    init = start()
    penalised = with_range_penalty(quadratic, init, 10.0)
    inside = penalised(init)
    assert float(inside["range"]) == 0.0 and torch.equal(
        inside["distance"], quadratic(init)["distance"]
    )
    weight = 10.0 * float(quadratic(init)["distance"]) / init.numel()
    brighter = init + 0.5
    expected = weight * ((brighter - 1).clamp(min=0) ** 2).sum()
    torch.testing.assert_close(penalised(brighter)["range"], expected)
    assert with_range_penalty(quadratic, init, 0.0) is quadratic
    with pytest.raises(ConfigError, match="range_weight"):
        with_range_penalty(quadratic, init, -1.0)


def test_lbfgs_minimises_the_penalised_objective() -> None:
    # (x - 1.4)² has its minimum out of range; with the penalty w·(x - 1)² the minimum moves to
    # (1.4 + w) / (1 + w), w = range_weight × start loss per pixel value.
    def last_iterate(range_weight: float) -> torch.Tensor:
        seen = [torch.empty(0)]

        def beyond(image: torch.Tensor) -> dict[str, torch.Tensor]:
            seen[0] = image.detach().clone()
            return {"distance": (image - 1.4).pow(2).sum()}

        result = optimize_image(
            beyond, start(), iterations=30, progress=False, range_weight=range_weight
        )
        assert torch.equal(result.image, torch.ones_like(result.image))  # clamped either way
        return seen[0]

    init = start()
    w = 1.0 * float((init - 1.4).pow(2).sum()) / init.numel()
    torch.testing.assert_close(last_iterate(0.0), torch.full_like(init, 1.4), atol=1e-4, rtol=1e-5)
    torch.testing.assert_close(
        last_iterate(1.0), torch.full_like(init, (1.4 + w) / (1 + w)), atol=1e-3, rtol=1e-5
    )


@pytest.mark.parametrize(
    ("function", "positional"),
    [
        (optimize_image, ["objective", "init"]),
        (gatys_transfer, ["loss", "content", "style"]),
        (invert_layer, ["vgg", "image", "layer"]),
    ],
)
def test_options_are_keyword_only(function, positional: list[str]) -> None:
    """Calls carrying many options name them: only the data go by position."""
    parameters = inspect.signature(function).parameters.values()
    assert [p.name for p in parameters if p.kind is not p.KEYWORD_ONLY] == positional
