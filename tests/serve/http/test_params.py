"""Stylize options from query values: blends in both spellings, one-line 400s."""

from __future__ import annotations

import numpy as np
import pytest

from stylenet.serve.http.errors import HTTPProblem
from stylenet.serve.http.params import blend_from_query, style_options

STYLES = ["starry_night", "wave", "udnie"]


def test_blend_spellings_agree_and_normalise():
    assert blend_from_query("wave:3, udnie:1") == {"wave": "3", "udnie": "1"}
    a = style_options(STYLES, blend="wave:3,udnie:1").weights
    b = style_options(STYLES, blend='{"wave": 0.75, "udnie": 0.25}').weights
    np.testing.assert_allclose(a, [0, 0.75, 0.25])
    np.testing.assert_allclose(a, b)
    np.testing.assert_array_equal(style_options(STYLES, style="udnie").weights, [0, 0, 1])
    assert style_options(STYLES).weights is None and blend_from_query("  ") is None
    assert style_options(STYLES, fmt="JPG").fmt == "jpeg"


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"blend": "wave"}, "blend must look like"),
        ({"blend": "[1, 2]"}, "blend must look like"),
        ({"style": "monet"}, "unknown style"),
        ({"strength": -0.1}, "strength"),
        ({"strength": float("inf")}, "strength"),
        ({"size": 31}, "size must be >= 32"),
        ({"fmt": "bmp"}, "format must be one of"),
    ],
)
def test_bad_options_are_400(options, words):
    with pytest.raises(HTTPProblem) as error:
        style_options(STYLES, **options)
    assert error.value.status == 400 and words in str(error.value)
