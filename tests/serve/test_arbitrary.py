"""The arbitrary-style path on ONNX Runtime: any painting, shapes, tiles, cache, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from stylenet.errors import ConfigError, ImageError, ModelFileError
from stylenet.export.arbitrary import export_autoencoder
from stylenet.nn.autoencoder import AutoencoderConfig, StyleAutoencoder
from stylenet.serve import arbitrary
from stylenet.serve.arbitrary import (
    ArbitraryNetwork,
    PaintingStylizer,
    painting_array,
    shipped_arbitrary_dir,
)
from stylenet.serve.loader import load_stylizer
from stylenet.serve.pipeline import stylize_array
from tests.conftest import synthetic_rgb


@pytest.fixture(scope="module")
def network() -> ArbitraryNetwork:
    """The shipped network (trained weights: random ones decode to nearly flat pictures)."""
    return ArbitraryNetwork(providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def random_network(tmp_path_factory: pytest.TempPathFactory) -> ArbitraryNetwork:
    """A tiny random-weight network exported like the shipped one."""
    torch.manual_seed(0)
    net = StyleAutoencoder(AutoencoderConfig(widths=(4, 8, 8, 16)))
    folder = tmp_path_factory.mktemp("arbitrary")
    export_autoencoder(net, folder, facts={"steps": 0})
    return ArbitraryNetwork(folder, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def painting_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("painting") / "swirls.png"
    Image.fromarray(synthetic_rgb(96, 128, seed=7)).save(path)
    return path


def stylizer(network: ArbitraryNetwork, painting: Path, **options: object) -> PaintingStylizer:
    return PaintingStylizer(network, network.painting(painting), **options)  # type: ignore[arg-type]


@pytest.mark.slow
@pytest.mark.parametrize("size", [(33, 47), (64, 64), (17, 90)])
def test_any_size_gives_a_finite_picture_of_that_size(
    random_network: ArbitraryNetwork, painting_file: Path, size: tuple[int, int]
) -> None:
    images = np.stack([synthetic_rgb(*size, seed=s).transpose(2, 0, 1) for s in (1, 2)])
    out = stylizer(random_network, painting_file)(images.astype(np.float32))
    assert out.shape == (2, 3, *size) and out.dtype == np.float32
    assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 255


def test_the_painting_changes_the_result(network: ArbitraryNetwork, tmp_path: Path) -> None:
    photo = synthetic_rgb(48, 64, seed=1).transpose(2, 0, 1)[None].astype(np.float32)
    outs = []
    for seed in (3, 4):
        path = tmp_path / f"p{seed}.png"
        picture = synthetic_rgb(80, 80, seed=seed)
        picture[..., seed % 3] = 255 - picture[..., seed % 3]  # different colours
        Image.fromarray(picture).save(path)
        outs.append(stylizer(network, path)(photo))
    assert np.abs(outs[0] - outs[1]).mean() > 1.0


@pytest.mark.slow
def test_strength_zero_is_the_autoencoders_reconstruction(
    network: ArbitraryNetwork, painting_file: Path
) -> None:
    photo = synthetic_rgb(40, 56, seed=2).transpose(2, 0, 1)[None].astype(np.float32)
    zero = stylizer(network, painting_file, strength=0.0)(photo)
    features = network.encode(arbitrary.pad_to_multiple(photo))
    expected = network.decode(features)[..., :40, :56]
    np.testing.assert_allclose(zero, expected, atol=1e-3)
    full = stylizer(network, painting_file)(photo)
    half = stylizer(network, painting_file).with_strength(0.5)(photo)
    assert 0 < np.abs(half - zero).mean() < np.abs(full - zero).mean()
    # the pipeline's strength multiplies the stylizer's own
    quarter = stylizer(network, painting_file, strength=0.5).with_strength(0.5)
    assert quarter.strength == 0.25
    image = synthetic_rgb(40, 56, seed=2)
    halved = stylizer(network, painting_file, strength=0.5)
    np.testing.assert_array_equal(
        stylize_array(halved, image), stylize_array(halved.with_strength(1.0), image)
    )


def test_a_flat_photo_never_gives_nan(network: ArbitraryNetwork, painting_file: Path) -> None:
    flat = np.full((1, 3, 48, 48), 128.0, np.float32)
    out = stylizer(network, painting_file)(flat)
    assert np.isfinite(out).all()


def test_a_nearly_flat_painting_gives_finite_output(
    network: ArbitraryNetwork, tmp_path: Path
) -> None:
    picture = np.full((80, 80, 3), 100, np.uint8)
    picture[::3, ::2] = 104  # a std of 1.5 levels: barely above the flat-colour refusal
    path = tmp_path / "pale.png"
    Image.fromarray(picture).save(path)
    photo = synthetic_rgb(40, 40, seed=5).transpose(2, 0, 1)[None].astype(np.float32)
    assert np.isfinite(stylizer(network, path)(photo)).all()


@pytest.mark.slow
def test_tiles_share_the_whole_images_statistics(
    network: ArbitraryNetwork, painting_file: Path
) -> None:
    """Two passes over tiles give the single pass's picture; each tile's own statistics do not."""
    image = synthetic_rgb(200, 264, seed=11)
    image[:100] //= 3  # a dark top half: its own statistics differ from the whole image's
    batch = image.transpose(2, 0, 1)[None]
    model = stylizer(network, painting_file)
    whole = model(batch.astype(np.float32))
    rows = list(model.layerwise_rows(batch, tile=64))
    assert [y for y, _ in rows] == [0, 64, 128, 192]
    tiled = np.concatenate([r for _, r in rows], axis=2)
    assert tiled.shape == whole.shape
    assert np.abs(tiled - whole).max() < 1.0
    own = np.concatenate(
        [model(batch[..., y : y + 64, :].astype(np.float32)) for y in range(0, 192, 64)], axis=2
    )
    own_error = np.abs(own - whole[..., :192, :]).mean()
    assert own_error > 5 * np.abs(tiled - whole).mean()


@pytest.mark.slow
def test_the_pipeline_tiles_big_pictures_in_two_passes(
    network: ArbitraryNetwork, painting_file: Path, small_layerwise_tiles: None
) -> None:
    image = synthetic_rgb(150, 170, seed=12)
    model = stylizer(network, painting_file)
    single = stylize_array(model, image, tile_size=-1)
    tiled = stylize_array(model, image, tile_size=64, tile_overlap=8)
    assert np.abs(single.astype(int) - tiled.astype(int)).max() <= 2


def test_painting_statistics_are_cached_by_their_pixels(
    network: ArbitraryNetwork, painting_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = network.painting(painting_file)
    copy = tmp_path / "copy.png"
    copy.write_bytes(painting_file.read_bytes())
    assert network.painting(copy).statistics is first.statistics  # same pixels: cached
    assert network.painting(copy).name == "copy"
    monkeypatch.setattr(arbitrary, "CACHE_SIZE", 2)
    for seed in range(4):
        network.painting(synthetic_rgb(70, 70, seed=100 + seed))
    assert len(network._cache) == 2


def test_paintings_in_any_mode_are_read_as_rgb(network: ArbitraryNetwork, tmp_path: Path) -> None:
    rgb = synthetic_rgb(80, 96, seed=8)
    modes = {
        "grey.png": Image.fromarray(rgb).convert("L"),
        "alpha.png": Image.fromarray(rgb).convert("RGBA"),
        "cmyk.jpg": Image.fromarray(rgb).convert("CMYK"),
        "palette.gif": Image.fromarray(rgb).convert("P"),
    }
    for name, picture in modes.items():
        picture.save(tmp_path / name)
        found = network.painting(tmp_path / name)
        channels = found.statistics.mean.shape[0]
        assert found.statistics.covariance.shape == (channels, channels)
        assert np.isfinite(found.statistics.covariance).all()


def test_a_pil_image_or_array_is_a_painting_too(network: ArbitraryNetwork) -> None:
    rgb = synthetic_rgb(80, 96, seed=8)
    from_array = network.painting(rgb)
    from_pil = network.painting(Image.fromarray(rgb), name="mine")
    assert from_pil.name == "mine" and from_array.digest == from_pil.digest


def test_big_paintings_are_downscaled_for_their_statistics() -> None:
    pixels, name = painting_array(synthetic_rgb(300, 900, seed=1), size=256)
    assert pixels.shape == (85, 256, 3) and name == "painting"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: Image.new("RGB", (90, 90), (10, 200, 30)).save(p), "single flat colour"),
        (lambda p: Image.fromarray(synthetic_rgb(63, 300)).save(p), "at least 64 px"),
        (lambda p: Image.new("RGB", (1, 1)).save(p), "too small"),
        (lambda p: p.write_bytes(b"<html>not a picture</html>"), "not a readable image"),
    ],
)
def test_bad_paintings_are_refused_in_one_line(
    network: ArbitraryNetwork, tmp_path: Path, make, message: str
) -> None:
    path = tmp_path / "painting.png"
    make(path)
    with pytest.raises(ImageError, match=message) as error:
        network.painting(path)
    assert "\n" not in str(error.value)


def test_bad_options_are_refused(network: ArbitraryNetwork, painting_file: Path) -> None:
    with pytest.raises(ConfigError, match="painting_size"):
        network.painting(painting_file, size=20)
    with pytest.raises(ConfigError, match="strength"):
        stylizer(network, painting_file, strength=1.5)
    with pytest.raises(ConfigError, match="transform"):
        stylizer(network, painting_file, transform="gram")


def test_a_folder_without_the_graphs_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not found"):
        ArbitraryNetwork(tmp_path / "missing")
    (tmp_path / "encoder.onnx").write_bytes(b"garbage")
    with pytest.raises(ModelFileError, match="cannot load"):
        ArbitraryNetwork(tmp_path)


def test_graphs_of_another_kind_are_refused(
    random_network: ArbitraryNetwork, tmp_path: Path
) -> None:
    decoder = (random_network.folder / "decoder.onnx").read_bytes()
    (tmp_path / "encoder.onnx").write_bytes(decoder)
    (tmp_path / "decoder.onnx").write_bytes(decoder)
    with pytest.raises(ModelFileError, match="not a stylenet arbitrary-style graph"):
        ArbitraryNetwork(tmp_path)


@pytest.mark.slow
def test_the_loader_gives_the_shipped_network_for_a_painting(painting_file: Path) -> None:
    model = load_stylizer(None, painting=painting_file)
    assert model.styles == ["swirls"]
    out = stylize_array(model, synthetic_rgb(64, 80, seed=3))
    assert out.shape == (64, 80, 3) and out.dtype == np.uint8
    with pytest.raises(ConfigError, match="painting=PATH"):
        load_stylizer(shipped_arbitrary_dir())


@pytest.mark.slow
def test_the_wider_shipped_network_is_chosen_by_name(painting_file: Path) -> None:
    image = synthetic_rgb(64, 80, seed=3)
    lean = stylize_array(load_stylizer("arbitrary", painting=painting_file), image)
    wide = stylize_array(load_stylizer("arbitrary_wide", painting=painting_file), image)
    assert wide.shape == lean.shape and not np.array_equal(wide, lean)
    with pytest.raises(ConfigError, match="not one"):
        load_stylizer("arbitrary_narrow", painting=painting_file)
