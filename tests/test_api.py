"""The public API: ``stylenet.stylize``, ``stylenet.load``, ``stylenet.models``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import stylenet
from stylenet.errors import ConfigError, ImageError
from tests.conftest import synthetic_rgb


@pytest.fixture(scope="module")
def photo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("api") / "photo.png"
    Image.fromarray(synthetic_rgb(72, 96, seed=4)).save(path)
    return path


def test_a_path_or_pil_image_gives_a_pil_image(photo_file: Path) -> None:
    from_path = stylenet.stylize(photo_file, model="starry_night_fast")
    from_pil = stylenet.stylize(Image.open(photo_file), model="starry_night_fast")
    assert isinstance(from_path, Image.Image) and from_path.size == (96, 72)
    assert np.array_equal(np.asarray(from_path), np.asarray(from_pil))


def test_an_array_gives_an_array_and_is_not_modified() -> None:
    image = synthetic_rgb(64, 80, seed=5)
    before = image.copy()
    out = stylenet.stylize(image, model="starry_night_fast", strength=0.5)
    assert isinstance(out, np.ndarray) and out.shape == image.shape and out.dtype == np.uint8
    assert np.array_equal(image, before)
    assert np.abs(out.astype(int) - image).mean() > 1


def test_blends_of_a_multi_style_model_differ_from_one_style() -> None:
    image = synthetic_rgb(64, 64, seed=6)
    wave = stylenet.stylize(image, model="multi_style", style="wave")
    blend = stylenet.stylize(image, model="multi_style", styles={"wave": 0.5, "the_scream": 0.5})
    assert np.abs(wave.astype(int) - blend).mean() > 1
    with pytest.raises(ConfigError):
        stylenet.stylize(image, model="multi_style", styles={"no_such_style": 1.0})


def test_any_painting_without_training(tmp_path: Path) -> None:
    painting = tmp_path / "painting.png"
    Image.fromarray(synthetic_rgb(96, 96, seed=9)).save(painting)
    out = stylenet.stylize(synthetic_rgb(64, 72, seed=7), painting=painting)
    assert out.shape == (64, 72, 3)
    assert stylenet.load(painting=painting).styles == ["painting"]


def test_load_returns_a_reusable_stylizer() -> None:
    model = stylenet.load("starry_night_fast")
    assert model is stylenet.load("starry_night_fast")  # loaded once
    image = synthetic_rgb(48, 48, seed=8)
    assert np.array_equal(stylenet.stylize(image, model), stylenet.stylize(image, model))


def test_models_lists_the_shipped_ones_with_their_cards() -> None:
    shipped = {m.name: m for m in stylenet.models()}
    assert {"starry_night", "multi_style", "arbitrary"} <= set(shipped)
    assert shipped["multi_style"].kind == "multi" and len(shipped["multi_style"].styles) > 1
    assert shipped["starry_night"].styles == ["starry_night"]
    assert shipped["starry_night"].card["facts"]["steps"] > 0
    assert shipped["arbitrary"].kind == "arbitrary" and shipped["arbitrary"].styles == []
    assert shipped["arbitrary_wide"].kind == "arbitrary"  # the wider, slower network
    assert shipped["arbitrary_wide"].card["autoencoder"] != shipped["arbitrary"].card["autoencoder"]


def test_bad_images_are_refused() -> None:
    with pytest.raises(ImageError, match="uint8"):
        stylenet.stylize(np.zeros((40, 40, 3), np.float32))
    with pytest.raises(ImageError, match="file path, a PIL image"):
        stylenet.stylize(42)  # type: ignore[call-overload]
    with pytest.raises(ImageError, match="not found"):
        stylenet.stylize("no/such/photo.jpg")


def test_import_is_light_and_stylizing_writes_nothing_to_stderr(photo_file: Path) -> None:
    code = (
        "import sys, stylenet\n"
        "assert 'onnxruntime' not in sys.modules and 'torch' not in sys.modules\n"
        f"stylenet.stylize({str(photo_file)!r}, model='starry_night').save('out.png')\n"
        "assert 'torch' not in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=photo_file.parent, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert (photo_file.parent / "out.png").is_file()
