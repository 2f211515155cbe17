from __future__ import annotations

import itertools

import numpy as np
import pytest

from stylenet.errors import ConfigError
from stylenet.nn.checkpoint import ModelInfo
from stylenet.nn.transformer import TransformerNet
from stylenet.serve import pipeline
from stylenet.serve.pipeline import stylize_array, tile_size_for
from stylenet.serve.tiling import ramp, seam_ratio, spans, stylize_tiled, tile_starts
from stylenet.serve.torch_backend import TorchStylizer


class Recording:
    """A stand-in stylizer (``x ↦ 0.5·x + 40``) recording the size of every call."""

    def __init__(self) -> None:
        self.styles = ["x"]
        self.shapes: list[tuple[int, ...]] = []

    def __call__(self, images: np.ndarray, style_weights=None) -> np.ndarray:
        assert isinstance(images, np.ndarray) and images.dtype == np.float32
        self.shapes.append(tuple(images.shape))
        return images * 0.5 + 40.0


@pytest.fixture
def net_stylizer() -> TorchStylizer:
    return TorchStylizer(TransformerNet(width=0.125, num_res_blocks=1), ModelInfo(["x"]), "cpu")


def smooth_photo(height: int, width: int) -> np.ndarray:
    """``1×3×H×W`` float32 in [0, 255]: gradients, a sinusoid and mild noise."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    channels = [255 * xx / width, 255 * yy / height, 127 + 80 * np.sin(xx / 9.0 + yy / 13.0)]
    noise = np.random.default_rng(0).normal(0, 4, (3, height, width))
    return np.clip(np.stack(channels) + noise, 0, 255).astype(np.float32)[None]


def as_picture(batch: np.ndarray) -> np.ndarray:
    """``1×3×H×W`` float32 0–255 → ``H×W×3`` uint8."""
    return np.clip(np.rint(batch[0].transpose(1, 2, 0)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    ("length", "tile", "overlap"), [(100, 100, 8), (300, 128, 32), (257, 64, 0)]
)
def test_tiles_cover_the_image_with_the_overlap(length: int, tile: int, overlap: int) -> None:
    starts = tile_starts(length, tile, overlap)
    assert starts[0] == 0 and starts[-1] + min(tile, length) == length
    assert all(b - a <= tile - overlap for a, b in itertools.pairwise(starts))


def test_ramp_rises_only_on_open_sides() -> None:
    weights = ramp(10, 4, start_open=True, end_open=False)
    assert np.all(weights[:4] < 1) and np.all(weights[4:] == 1)
    assert np.all(np.diff(weights)[:4] > 0) and weights.min() > 0


def test_blending_is_exact_for_a_pointwise_stylizer_and_memory_is_per_tile() -> None:
    stylizer = Recording()
    image = smooth_photo(300, 410)
    out = stylize_tiled(stylizer, image, tile=128, overlap=32)
    np.testing.assert_allclose(out, image * 0.5 + 40.0, atol=1e-3)
    assert max(shape[-1] for shape in stylizer.shapes) == 128 and len(stylizer.shapes) == 12


def test_tiled_agrees_with_untiled_and_has_no_seams(net_stylizer: TorchStylizer) -> None:
    image = smooth_photo(200, 260)
    whole = net_stylizer(image)
    tiled = stylize_tiled(net_stylizer, image, tile=160, overlap=48)
    assert tiled.shape == whole.shape
    # Instance norm sees each tile's own statistics: tones differ a little, not the picture.
    assert np.abs(tiled - whole).mean() < 0.1 * 255
    # Steps across tile edges are no larger than around them (a seam would give several ×).
    tiled_hwc, whole_hwc = tiled[0].transpose(1, 2, 0), whole[0].transpose(1, 2, 0)
    assert seam_ratio(tiled_hwc, 160, 48) < 1.4 * max(1.0, seam_ratio(whole_hwc, 160, 48))


def test_a_hard_seam_is_measured_as_one() -> None:
    image = np.random.default_rng(1).uniform(100, 110, (64, 128, 3)).astype(np.float32)
    image[:, 64:] += 60.0  # a step where a 64 px tile with 0 overlap would end
    assert seam_ratio(image, 64, 0) > 3.0


def test_stylize_image_tiles_when_asked_and_keeps_small_images_untiled(
    net_stylizer: TorchStylizer,
) -> None:
    photo = as_picture(smooth_photo(100, 150))
    plain = stylize_array(net_stylizer, photo)
    np.testing.assert_array_equal(stylize_array(net_stylizer, photo, tile_size=-1), plain)
    np.testing.assert_array_equal(stylize_array(net_stylizer, photo, tile_size=0), plain)
    tiled = stylize_array(net_stylizer, photo, tile_size=64, tile_overlap=16)
    assert tiled.shape == plain.shape == photo.shape and tiled.dtype == np.uint8


def test_automatic_tiling_above_the_pixel_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "AUTO_TILE_PIXELS", 100 * 100)
    monkeypatch.setattr(pipeline, "DEFAULT_TILE", 64)
    stylizer = Recording()
    stylize_array(stylizer, np.zeros((120, 130, 3), np.uint8), tile_overlap=16)
    assert len(stylizer.shapes) > 1 and stylizer.shapes[0][-2:] == (64, 64)
    assert tile_size_for(90, 90, 0, 16) == 0


@pytest.mark.parametrize(
    ("tile_size", "overlap", "message"),
    [(16, 4, "tile_size must be >= 32"), (64, 32, "tile_overlap"), (-2, 8, "tile_size must be -1")],
)
def test_bad_tiling_options(tile_size: int, overlap: int, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        stylize_array(
            Recording(), np.zeros((40, 40, 3), np.uint8), tile_size=tile_size, tile_overlap=overlap
        )


@pytest.mark.parametrize(
    ("length", "tile", "minimum"),
    [(1, 8, 1), (100, 8, 1), (1000, 1024, 1), (4000, 1024, 1), (1000, 256, 64), (100, 8, 30)],
)
def test_spans_cover_the_length_without_overlap(length: int, tile: int, minimum: int) -> None:
    parts = spans(length, tile, minimum)
    assert parts[0][0] == 0 and parts[-1][1] == length
    assert all(a[1] == b[0] for a, b in itertools.pairwise(parts))
    sizes = [end - start for start, end in parts]
    assert max(sizes) - min(sizes) <= 1  # nearly equal
    assert min(sizes) >= min(minimum, length)  # the minimum wins over the tile ...
    assert max(sizes) <= tile or len(parts) == length // minimum  # ... only where it must


def test_spans_respect_the_minimum_before_the_tile() -> None:
    assert len(spans(1000, 256)) == 4
    assert len(spans(100, 8, 30)) == 3  # 13 spans of <= 8 would be under 30 px
