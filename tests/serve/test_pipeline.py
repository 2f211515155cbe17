from __future__ import annotations

import pytest
import torch

from stylenet.data.color import rgb_to_yiq
from stylenet.errors import ConfigError, ImageError
from stylenet.nn.checkpoint import ModelInfo
from stylenet.nn.transformer import TransformerNet
from stylenet.serve.pipeline import stylize_image
from stylenet.serve.torch_backend import TorchStylizer


@pytest.fixture
def stylizer() -> TorchStylizer:
    return TorchStylizer(TransformerNet(width=0.125, num_res_blocks=1), ModelInfo(["x"]), "cpu")


def test_output_shape_and_range(stylizer: TorchStylizer) -> None:
    out = stylize_image(stylizer, torch.rand(3, 37, 45))
    assert out.shape == (3, 37, 45) and out.min() >= 0 and out.max() <= 1


def test_strength_zero_returns_the_photo(stylizer: TorchStylizer) -> None:
    photo = torch.rand(3, 40, 40)
    assert torch.allclose(stylize_image(stylizer, photo, strength=0.0), photo)


def test_preserve_color_keeps_chroma(stylizer: TorchStylizer) -> None:
    photo = torch.rand(3, 40, 40) * 0.5 + 0.25
    out = stylize_image(stylizer, photo, preserve_color=True)
    assert (rgb_to_yiq(out)[1:] - rgb_to_yiq(photo)[1:]).abs().mean() < 0.02


def test_bad_values(stylizer: TorchStylizer) -> None:
    with pytest.raises(ConfigError):
        stylize_image(stylizer, torch.rand(3, 40, 40), strength=1.5)
    with pytest.raises(ImageError, match="too small"):
        stylize_image(stylizer, torch.rand(3, 20, 40))
