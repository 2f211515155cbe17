"""The models that ship in exported/: each loads by its short name (quietly), matches its model
card and stylizes; together they stay under the size budget."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stylenet.cli.config import shipped_models_dir
from stylenet.data.digest import file_sha256 as sha256
from stylenet.export.card import card_path
from stylenet.serve.loader import load_stylizer, shipped_models
from stylenet.serve.pipeline import stylize_array
from stylenet.styles import one_hot
from tests.helpers.images import synthetic_rgb
from tests.helpers.quiet_load import load_stderr

SIZE_BUDGET = 60 * 2**20
CARD_FACTS = {"style_images", "steps", "image_size", "content_weight", "style_weight", "tv_weight"}
CARD_FACTS |= {"final_losses", "train_seconds", "machine"}

pytestmark = pytest.mark.skipif(not shipped_models(), reason="no models in exported/")


def test_exported_stays_under_the_size_budget() -> None:
    total = sum(p.stat().st_size for p in shipped_models_dir().rglob("*") if p.is_file())
    assert total < SIZE_BUDGET  # the tiling graphs in tiling/ included


def test_apps_see_one_onnx_file_per_model() -> None:
    folder = shipped_models_dir()
    top = sorted(p.name for p in folder.glob("*.onnx"))
    assert top == [f"{name}.onnx" for name in shipped_models()]
    tiling = sorted(p.name for p in (folder / "tiling").iterdir())
    expected = [f"{n}{s}" for n in shipped_models() for s in (".layers.onnx", ".statistics.onnx")]
    assert tiling == expected


@pytest.mark.slow
def test_loading_the_shipped_models_writes_nothing_to_stderr() -> None:
    models = [shipped_models_dir() / f"{name}.onnx" for name in shipped_models()]
    out, err = load_stderr(models)  # each model, its statistics graph and its layer graphs
    assert out.strip() == f"loaded {len(models)}" and err == ""


@pytest.mark.parametrize("name", shipped_models())
def test_card_describes_the_file(name: str) -> None:
    model = shipped_models_dir() / f"{name}.onnx"
    card = json.loads(card_path(model).read_text())
    assert card["sha256"] == sha256(model) and card["file_size"] == model.stat().st_size
    assert set(card["facts"]) >= CARD_FACTS
    assert (
        card["facts"]["steps"] > 0 and card["parity"]["max_abs_diff"] <= card["parity"]["tolerance"]
    )


@pytest.mark.parametrize("name", shipped_models())
def test_short_name_stylizes_every_style(name: str) -> None:
    stylizer = load_stylizer(name)
    photo = synthetic_rgb(64, 80)
    for style in stylizer.styles:
        weights = one_hot(stylizer.styles, style) if len(stylizer.styles) > 1 else None
        out = stylize_array(stylizer, photo, style_weights=weights)
        assert out.shape == photo.shape and out.dtype == np.uint8
        change = np.abs(out.astype(np.float32) - photo).mean()
        assert change > 0.02 * 255  # the style changes the picture


@pytest.mark.parametrize("name", shipped_models())
def test_shipped_models_share_statistics_across_tiles(name: str) -> None:
    stylizer = load_stylizer(name)
    assert stylizer.statistics_channels  # its statistics graph is in tiling/
    image = synthetic_rgb(40, 48).transpose(2, 0, 1)[None].astype(np.float32)
    stats = stylizer.statistics(image)
    assert stats.shape == (1, 2 * sum(stylizer.statistics_channels))
    np.testing.assert_allclose(stylizer(image, statistics=stats), stylizer(image), atol=0.05)
    nan = np.full_like(stats, np.nan)  # the model is the statistics graph with NaN statistics
    np.testing.assert_array_equal(stylizer(image, statistics=nan), stylizer(image))


@pytest.mark.usefixtures("small_layerwise_tiles")
@pytest.mark.parametrize("name", shipped_models())
def test_shipped_models_tile_layer_by_layer_as_one_pass(name: str) -> None:
    stylizer = load_stylizer(name)
    assert stylizer.has_layers  # its layer graphs are in tiling/
    photo = synthetic_rgb(150, 190, seed=3)
    untiled = stylize_array(stylizer, photo, tile_size=-1)
    tiled = stylize_array(stylizer, photo, tile_size=64, tile_overlap=8)  # auto: layerwise
    assert np.abs(tiled.astype(int) - untiled.astype(int)).max() <= 1
