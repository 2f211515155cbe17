from __future__ import annotations

import numpy as np
import pytest
import torch

from stylenet.errors import ConfigError
from stylenet.nn.checkpoint import ModelInfo
from stylenet.nn.transformer import TransformerNet
from stylenet.serve.frames import FRAME_THUMBNAIL, FrameStylizer
from stylenet.serve.pipeline import stylize_array
from stylenet.serve.shared_statistics import thumbnail
from stylenet.serve.torch_backend import TorchStylizer
from tests.helpers.images import synthetic_rgb


@pytest.fixture
def stylizer() -> TorchStylizer:
    torch.manual_seed(0)
    net = TransformerNet(width=0.125, num_res_blocks=1)
    return TorchStylizer(net, ModelInfo(["x"]), "cpu")


@pytest.mark.slow
def test_frames_are_normalised_with_their_thumbnails_statistics(stylizer) -> None:
    bgr = synthetic_rgb(180, 240, seed=1)
    got = FrameStylizer(stylizer, temporal=0.0)(bgr)
    rgb = np.ascontiguousarray(bgr[..., ::-1])
    small = thumbnail(rgb.transpose(2, 0, 1)[None], FRAME_THUMBNAIL)
    assert max(small.shape[-2:]) == FRAME_THUMBNAIL
    want = stylize_array(stylizer, rgb, statistics=stylizer.statistics(small))[..., ::-1]
    np.testing.assert_array_equal(got, want)
    own = stylize_array(stylizer, rgb)[..., ::-1]
    assert np.abs(got.astype(int) - own).mean() > 0.5  # the statistics changed the result


@pytest.mark.slow
def test_statistics_side_none_keeps_each_frames_own(stylizer) -> None:
    bgr = synthetic_rgb(180, 240, seed=2)
    got = FrameStylizer(stylizer, temporal=0.0, statistics_side=None)(bgr)
    rgb = np.ascontiguousarray(bgr[..., ::-1])
    np.testing.assert_array_equal(got, stylize_array(stylizer, rgb)[..., ::-1])


def test_a_stylizer_without_statistics_support_is_used_as_before() -> None:
    class Plain:
        styles = ["x"]  # noqa: RUF012
        facts: dict = {}  # noqa: RUF012

        def __call__(self, images, style_weights=None):
            return 255.0 - images

    bgr = synthetic_rgb(64, 80, seed=3)
    np.testing.assert_array_equal(FrameStylizer(Plain(), temporal=0.0)(bgr), 255 - bgr)


def test_a_tiny_statistics_side_is_refused(stylizer) -> None:
    with pytest.raises(ConfigError, match="statistics_side must be >= 32"):
        FrameStylizer(stylizer, statistics_side=8)
