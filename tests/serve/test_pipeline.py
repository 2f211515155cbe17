from __future__ import annotations

import numpy as np
import pytest

from stylenet.data.color import rgb_to_yiq
from stylenet.errors import ConfigError, ImageError
from stylenet.nn.checkpoint import ModelInfo
from stylenet.nn.transformer import TransformerNet
from stylenet.serve.pipeline import stylize_array
from stylenet.serve.torch_backend import TorchStylizer
from tests.conftest import synthetic_rgb


class Constant:
    """A stand-in stylizer returning one flat colour (0–255) for every pixel."""

    styles = ["x"]  # noqa: RUF012
    facts: dict = {}  # noqa: RUF012

    def __init__(self, rgb: tuple[float, float, float]) -> None:
        self.rgb = np.asarray(rgb, np.float32)[None, :, None, None]

    def __call__(self, images: np.ndarray, style_weights=None) -> np.ndarray:
        return np.broadcast_to(self.rgb, images.shape).copy()


@pytest.fixture
def stylizer() -> TorchStylizer:
    return TorchStylizer(TransformerNet(width=0.125, num_res_blocks=1), ModelInfo(["x"]), "cpu")


def test_output_shape_and_dtype(stylizer: TorchStylizer) -> None:
    photo = synthetic_rgb(37, 45)
    out = stylize_array(stylizer, photo)
    assert out.shape == (37, 45, 3) and out.dtype == np.uint8


def test_the_input_is_not_modified(stylizer: TorchStylizer) -> None:
    photo = synthetic_rgb(40, 40)
    before = photo.copy()
    stylize_array(stylizer, photo, preserve_color=True, strength=0.5)
    np.testing.assert_array_equal(photo, before)


def test_strength_interpolates_photo_to_style() -> None:
    photo = synthetic_rgb(40, 40)
    flat = Constant((200.0, 20.0, 90.0))
    np.testing.assert_array_equal(stylize_array(flat, photo, strength=0.0), photo)
    full = stylize_array(flat, photo).astype(np.float32)
    half = stylize_array(flat, photo, strength=0.5).astype(np.float32)
    np.testing.assert_allclose(half, (full + photo) / 2, atol=1.0)


def test_preserve_color_keeps_chroma(stylizer: TorchStylizer) -> None:
    photo = synthetic_rgb(40, 40)
    out = stylize_array(stylizer, photo, preserve_color=True)
    chroma = np.abs(rgb_to_yiq(out / 255.0)[..., 1:] - rgb_to_yiq(photo / 255.0)[..., 1:])
    assert chroma.mean() < 0.02
    plain = stylize_array(stylizer, photo)
    assert (
        np.abs(rgb_to_yiq(plain / 255.0)[..., 1:] - rgb_to_yiq(photo / 255.0)[..., 1:]).mean()
        > chroma.mean()
    )


def test_bad_values(stylizer: TorchStylizer) -> None:
    with pytest.raises(ConfigError):
        stylize_array(stylizer, synthetic_rgb(40, 40), strength=1.5)
    with pytest.raises(ImageError, match="too small"):
        stylize_array(stylizer, synthetic_rgb(20, 40))
    with pytest.raises(ImageError, match="uint8"):
        stylize_array(stylizer, synthetic_rgb(40, 40).astype(np.float32))
    with pytest.raises(ImageError, match="H×W×3"):
        stylize_array(stylizer, synthetic_rgb(40, 40).transpose(2, 0, 1))
