from __future__ import annotations

import itertools

import pytest
import torch

from stylenet.errors import ConfigError
from stylenet.nn.checkpoint import ModelInfo
from stylenet.nn.transformer import TransformerNet
from stylenet.serve import pipeline
from stylenet.serve.pipeline import stylize_image, tile_size_for
from stylenet.serve.tiling import ramp, seam_ratio, stylize_tiled, tile_starts
from stylenet.serve.torch_backend import TorchStylizer


class Recording:
    """A stand-in stylizer (``x ↦ 0.5·x + 40``) recording the size of every call."""

    def __init__(self) -> None:
        self.styles = ["x"]
        self.shapes: list[tuple[int, ...]] = []

    def __call__(self, images: torch.Tensor, style_weights=None) -> torch.Tensor:
        self.shapes.append(tuple(images.shape))
        return images * 0.5 + 40.0


@pytest.fixture
def net_stylizer() -> TorchStylizer:
    return TorchStylizer(TransformerNet(width=0.125, num_res_blocks=1), ModelInfo(["x"]), "cpu")


def smooth_photo(height: int, width: int) -> torch.Tensor:
    """``1×3×H×W`` in [0, 255]: gradients, a sinusoid and mild noise."""
    yy, xx = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    channels = [255 * xx / width, 255 * yy / height, 127 + 80 * torch.sin(xx / 9.0 + yy / 13.0)]
    image = torch.stack(channels).float() + torch.randn(3, height, width) * 4
    return image.clamp(0, 255).unsqueeze(0)


@pytest.mark.parametrize(
    ("length", "tile", "overlap"), [(100, 100, 8), (300, 128, 32), (257, 64, 0)]
)
def test_tiles_cover_the_image_with_the_overlap(length: int, tile: int, overlap: int) -> None:
    starts = tile_starts(length, tile, overlap)
    assert starts[0] == 0 and starts[-1] + min(tile, length) == length
    assert all(b - a <= tile - overlap for a, b in itertools.pairwise(starts))


def test_ramp_rises_only_on_open_sides() -> None:
    weights = ramp(10, 4, start_open=True, end_open=False)
    assert torch.all(weights[:4] < 1) and torch.all(weights[4:] == 1)
    assert torch.all(weights.diff()[:4] > 0) and weights.min() > 0


def test_blending_is_exact_for_a_pointwise_stylizer_and_memory_is_per_tile() -> None:
    stylizer = Recording()
    image = smooth_photo(300, 410)
    out = stylize_tiled(stylizer, image, tile=128, overlap=32)
    assert torch.allclose(out, image * 0.5 + 40.0, atol=1e-3)
    assert max(shape[-1] for shape in stylizer.shapes) == 128 and len(stylizer.shapes) == 12


def test_tiled_agrees_with_untiled_and_has_no_seams(net_stylizer: TorchStylizer) -> None:
    image = smooth_photo(200, 260)
    whole = net_stylizer(image)
    tiled = stylize_tiled(net_stylizer, image, tile=160, overlap=48)
    assert tiled.shape == whole.shape
    # Instance norm sees each tile's own statistics: tones differ a little, not the picture.
    assert (tiled - whole).abs().mean() < 0.1 * 255
    # Steps across tile edges are no larger than around them (a seam would give several ×).
    assert seam_ratio(tiled[0], 160, 48) < 1.4 * max(1.0, seam_ratio(whole[0], 160, 48))


def test_stylize_image_tiles_when_asked_and_keeps_small_images_untiled(
    net_stylizer: TorchStylizer,
) -> None:
    photo = smooth_photo(100, 150)[0] / 255
    plain = stylize_image(net_stylizer, photo)
    assert torch.equal(stylize_image(net_stylizer, photo, tile_size=-1), plain)
    assert torch.equal(stylize_image(net_stylizer, photo, tile_size=0), plain)
    tiled = stylize_image(net_stylizer, photo, tile_size=64, tile_overlap=16)
    assert tiled.shape == plain.shape and tiled.min() >= 0 and tiled.max() <= 1


def test_automatic_tiling_above_the_pixel_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "AUTO_TILE_PIXELS", 100 * 100)
    monkeypatch.setattr(pipeline, "DEFAULT_TILE", 64)
    stylizer = Recording()
    stylize_image(stylizer, torch.rand(3, 120, 130), tile_overlap=16)
    assert len(stylizer.shapes) > 1 and stylizer.shapes[0][-2:] == (64, 64)
    assert tile_size_for(90, 90, 0, 16) == 0


@pytest.mark.parametrize(
    ("tile_size", "overlap", "message"),
    [(16, 4, "tile_size must be >= 32"), (64, 32, "tile_overlap"), (-2, 8, "tile_size must be -1")],
)
def test_bad_tiling_options(tile_size: int, overlap: int, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        stylize_image(Recording(), torch.rand(3, 40, 40), tile_size=tile_size, tile_overlap=overlap)
