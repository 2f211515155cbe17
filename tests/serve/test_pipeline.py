from __future__ import annotations

import numpy as np
import pytest

from stylenet.data.color import rgb_to_yiq
from stylenet.errors import ConfigError, ImageError
from stylenet.nn.checkpoint import ModelInfo
from stylenet.nn.transformer import TransformerNet
from stylenet.serve.layerwise import MIN_TILE
from stylenet.serve.pipeline import stylize_array
from stylenet.serve.shared_statistics import resolve_mode
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


class Toned:
    """A cheap NumPy stylizer whose output depends on the whole tile (like instance norm)."""

    statistics_channels = None

    def __call__(self, images, style_weights=None, **_):
        return 255.0 * (0.5 + 0.5 * np.tanh((images - images.mean()) / 60.0))


def reference(image: np.ndarray, *, tile: int, preserve: bool, strength: float) -> np.ndarray:
    """The tiled result through whole-picture float arrays (the straightforward way)."""
    from stylenet.data.color import blend_strength, transfer_luminance
    from stylenet.serve.pipeline import to_uint8
    from stylenet.serve.tiling import stylize_tiled

    batch = image.transpose(2, 0, 1)[None].astype(np.float32)
    out = stylize_tiled(Toned(), batch, tile=tile, overlap=16)[0].transpose(1, 2, 0)
    stylized = np.clip(out / 255.0, 0, 1)
    photo = image.astype(np.float32) / 255.0
    if preserve:
        stylized = transfer_luminance(stylized, photo)
    if strength < 1.0:
        stylized = blend_strength(stylized, photo, strength)
    return to_uint8(stylized)


@pytest.mark.parametrize(("preserve", "strength"), [(False, 1.0), (True, 1.0), (True, 0.4)])
def test_the_row_by_row_tiled_path_matches_whole_picture_arrays(
    preserve: bool, strength: float
) -> None:
    image = synthetic_rgb(600, 420, seed=4)  # more rows than one colour strip
    got = stylize_array(
        Toned(), image, tile_size=128, tile_overlap=16, preserve_color=preserve, strength=strength
    )
    want = reference(image, tile=128, preserve=preserve, strength=strength)
    difference = np.abs(got.astype(int) - want.astype(int))
    assert difference.max() <= 1  # float16 rows and streamed moments: rounding only
    if not preserve and strength == 1.0:
        assert np.array_equal(got, want)


def peak_bytes(image: np.ndarray) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        stylize_array(Toned(), image, tile_size=128, tile_overlap=16, tile_statistics="tile")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_tiled_memory_grows_with_the_tile_not_the_picture() -> None:
    small, large = synthetic_rgb(800, 1600, seed=2), synthetic_rgb(1600, 1600, seed=2)
    growth = peak_bytes(large) - peak_bytes(small)
    # twice the rows at the same width: the uint8 result grows (3 bytes per extra pixel), and
    # which row buffers are alive at the peak may differ by a row of tiles or two; the
    # whole-picture float arrays of before grew by 7 floats (28 bytes) per extra pixel
    row_of_tiles = 128 * 1600 * 3 * 4
    assert growth < (large.nbytes - small.nbytes) + 2 * row_of_tiles, growth


@pytest.mark.slow
@pytest.mark.usefixtures("small_layerwise_tiles")
def test_layerwise_tiling_gives_the_untiled_picture(stylizer: TorchStylizer) -> None:
    photo = synthetic_rgb(150, 170, seed=6)
    untiled = stylize_array(stylizer, photo, tile_size=-1, preserve_color=True, strength=0.7)
    layerwise = stylize_array(
        stylizer,
        photo,
        tile_size=64,
        tile_overlap=8,
        tile_statistics="layerwise",
        preserve_color=True,
        strength=0.7,
    )
    per_tile = stylize_array(stylizer, photo, tile_size=64, tile_overlap=8, tile_statistics="tile")
    assert np.abs(layerwise.astype(int) - untiled.astype(int)).max() <= 1  # rounding only
    plain = stylize_array(stylizer, photo, tile_size=-1)
    assert np.abs(per_tile.astype(int) - plain.astype(int)).mean() > 1  # what it avoids


@pytest.mark.usefixtures("small_layerwise_tiles")
def test_auto_tiles_layer_by_layer_where_the_model_can(stylizer: TorchStylizer) -> None:
    assert resolve_mode(stylizer, "auto") == "layerwise"
    assert resolve_mode(Constant((1.0, 2.0, 3.0)), "auto") == "calibrated"
    assert resolve_mode(stylizer, "tile") == "tile"
    photo = synthetic_rgb(150, 170, seed=7)
    untiled = stylize_array(stylizer, photo, tile_size=-1)
    auto = stylize_array(stylizer, photo, tile_size=64, tile_overlap=8)  # the default: auto
    assert np.abs(auto.astype(int) - untiled.astype(int)).max() <= 1


@pytest.mark.slow
@pytest.mark.usefixtures("small_layerwise_tiles")
def test_auto_uses_statistics_the_caller_gives(stylizer: TorchStylizer) -> None:
    """A video frame's thumbnail statistics are honoured rather than replaced."""
    photo = synthetic_rgb(150, 170, seed=8)
    batch = photo.transpose(2, 0, 1)[None].astype(np.float32)
    given = stylizer.statistics(batch[..., ::2, ::2].copy())
    out = stylize_array(stylizer, photo, tile_size=64, tile_overlap=8, statistics=given)
    layerwise = stylize_array(stylizer, photo, tile_size=64, tile_overlap=8)
    assert np.abs(out.astype(int) - layerwise.astype(int)).mean() > 0.1


def test_layerwise_needs_a_pytorch_model() -> None:
    with pytest.raises(
        ConfigError, match="tile_statistics=layerwise needs a PyTorch checkpoint or an ONNX model"
    ):
        stylize_array(
            Constant((1.0, 2.0, 3.0)),
            synthetic_rgb(100, 100),
            tile_size=64,
            tile_overlap=8,
            tile_statistics="layerwise",
        )


@pytest.mark.slow
def test_layer_by_layer_tiles_are_at_least_the_minimum(stylizer: TorchStylizer) -> None:
    """Smaller tiles give the same picture more slowly: the pipeline runs MIN_TILE or more."""
    asked: list[int] = []
    run = stylizer.layerwise_rows

    def spy(images: np.ndarray, style_weights: np.ndarray | None = None, *, tile: int):
        asked.append(tile)
        return run(images, style_weights, tile=tile)

    stylizer.layerwise_rows = spy  # type: ignore[method-assign]
    photo = synthetic_rgb(60, 700, seed=9)
    for tile_size in (64, MIN_TILE + 100):
        stylize_array(
            stylizer, photo, tile_size=tile_size, tile_overlap=8, tile_statistics="layerwise"
        )
    assert asked == [MIN_TILE, MIN_TILE + 100]
