from __future__ import annotations

import pytest
import torch

from stylenet.errors import ConfigError
from stylenet.methods.multiscale import iterations_per_scale, scale_sizes, upsample


def test_scale_sizes_halve_coarse_to_fine() -> None:
    assert scale_sizes(2048, 1366, 3) == [(512, 342), (1024, 683), (2048, 1366)]
    assert scale_sizes(64, 64, 1) == [(64, 64)]


def test_too_many_scales_is_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="use fewer scales"):
        scale_sizes(64, 64, 4)
    with pytest.raises(ConfigError, match="num_scales must be >= 1"):
        scale_sizes(64, 64, 0)


def test_iterations_per_scale() -> None:
    assert iterations_per_scale(5, 3) == [5, 5, 5]
    assert iterations_per_scale([9, 4], 2) == [9, 4]
    with pytest.raises(ConfigError, match="one per scale"):
        iterations_per_scale([1, 2, 3], 2)


def test_upsample_keeps_range() -> None:
    out = upsample(torch.rand(1, 3, 8, 8), (16, 20))
    assert out.shape == (1, 3, 16, 20) and out.min() >= 0 and out.max() <= 1
