from __future__ import annotations

import numpy as np
import pytest
import torch

from stylenet.errors import ConfigError
from stylenet.nn.norms import ConditionalInstanceNorm2d
from stylenet.serve.blend import choose_weights, interpolation_grid, parse_blend
from stylenet.styles import weights_from_blend

STYLES = ["starry_night", "wave", "udnie", "the_scream"]


def test_blend_is_normalised() -> None:
    weights = choose_weights(STYLES, blend={"starry_night": 0.7, "wave": 0.7})
    assert weights.dtype == np.float32
    np.testing.assert_allclose(weights, [0.5, 0.5, 0.0, 0.0])


@pytest.mark.parametrize(
    ("blend", "match"),
    [
        ({"monet": 1.0}, "unknown style"),
        ({"wave": -0.5, "udnie": 1.0}, ">= 0"),
        ({"wave": 0.0}, "all zero"),
        ({"wave": "lots"}, "number"),
    ],
)
def test_bad_blends_are_rejected(blend: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        weights_from_blend(STYLES, blend)


def test_style_or_blend_not_both() -> None:
    assert choose_weights(STYLES) is None
    np.testing.assert_array_equal(choose_weights(STYLES, style="udnie"), [0.0, 0.0, 1.0, 0.0])
    with pytest.raises(ConfigError, match="not both"):
        choose_weights(STYLES, style="wave", blend={"udnie": 1.0})


def test_one_hot_blend_equals_the_single_style() -> None:
    norm = ConditionalInstanceNorm2d(6, num_styles=4)
    with torch.no_grad():
        norm.gamma.uniform_(0.5, 2.0)
        norm.beta.uniform_(-1.0, 1.0)
    x = torch.randn(1, 6, 8, 8)
    single = (
        torch.nn.functional.instance_norm(x) * norm.gamma[2][:, None, None]
        + norm.beta[2][:, None, None]
    )
    blended = norm(x, torch.from_numpy(choose_weights(STYLES, blend={"udnie": 3.0}))[None])
    assert torch.allclose(single, blended, atol=1e-6)


def test_gamma_beta_interpolate_linearly() -> None:
    norm = ConditionalInstanceNorm2d(5, num_styles=2)
    with torch.no_grad():
        norm.gamma.uniform_(0.5, 2.0)
        norm.beta.uniform_(-1.0, 1.0)
    x = torch.randn(1, 5, 6, 6)
    ends = [norm(x, torch.tensor([[1.0 - t, t]])) for t in (0.0, 1.0)]
    middle = norm(x, torch.tensor([[0.7, 0.3]]))
    assert torch.allclose(middle, 0.7 * ends[0] + 0.3 * ends[1], atol=1e-5)


def test_parse_blend_takes_plain_mappings_only() -> None:
    assert parse_blend(None) is None
    assert parse_blend({"wave": 1}) == {"wave": 1}
    with pytest.raises(ConfigError, match="blend must look like"):
        parse_blend("wave")


def test_interpolation_grid_corners_and_rows() -> None:
    four = interpolation_grid(STYLES, ["starry_night", "wave", "udnie", "the_scream"], 3)
    assert four.shape == (3, 3, 4) and four.dtype == np.float32
    np.testing.assert_allclose(four.sum(-1), np.ones((3, 3)), rtol=1e-6)
    np.testing.assert_array_equal(four[0, 0], [1.0, 0, 0, 0])
    np.testing.assert_array_equal(four[2, 2], [0, 0, 0, 1.0])
    np.testing.assert_allclose(four[1, 1], np.full(4, 0.25))
    two = interpolation_grid(STYLES, ["wave", "udnie"], 4)
    assert two.shape == (1, 4, 4)
    np.testing.assert_array_equal(two[0, 0], [0, 1.0, 0, 0])
    np.testing.assert_array_equal(two[0, 3], [0, 0, 1.0, 0])
    with pytest.raises(ConfigError):
        interpolation_grid(STYLES, ["wave", "udnie", "the_scream"], 3)
