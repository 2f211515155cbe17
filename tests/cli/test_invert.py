from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from PIL import Image

from stylenet.cli.config import config_dir
from stylenet.cli.invert import run
from stylenet.errors import ConfigError
from tests.helpers.cli import cli_error_line
from tests.helpers.images import synthetic_rgb


def config(*overrides: str):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(
            config_name="invert",
            overrides=[
                "perceptual=random",
                "progress=false",
                "iterations=2",
                "size=40",
                *overrides,
            ],
        )


@pytest.mark.slow
def test_one_layer_and_a_strip(tmp_path: Path, image_file: Path) -> None:
    single = run(config(f"image={image_file}", "layer=relu2_1", f"output={tmp_path / 'one.png'}"))
    assert Image.open(single).size == (40, 30)
    strip = run(
        config(f"image={image_file}", "layers=[relu1_1,relu3_1]", f"output={tmp_path / 's.png'}")
    )
    assert Image.open(strip).size == (120, 30 + 18)


def test_unknown_layer_is_a_config_error(image_file: Path) -> None:
    with pytest.raises(ConfigError, match="unknown VGG layer"):
        run(config(f"image={image_file}", "layer=relu9_9"))


@pytest.mark.slow
def test_command_prints_one_error_line_and_exits_2(tmp_path: Path) -> None:
    Image.fromarray(synthetic_rgb(40, 40)).save(tmp_path / "p.png")
    line = cli_error_line("invert", "image=p.png", "tv_beta=-2", "perceptual=random", cwd=tmp_path)
    assert line == "stylenet: error: tv_beta must be >= 0, got -2"


@pytest.mark.slow
def test_pooling_is_the_perceptual_groups_and_the_override_takes_effect(
    tmp_path: Path, image_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stylenet.nn.vgg

    assert "pooling" not in config() and config().perceptual.pooling == "max"
    seen: list[str] = []
    real = stylenet.nn.vgg.VGGFeatures

    def recording(*args, pooling: str, **kwargs):
        seen.append(pooling)
        return real(*args, pooling=pooling, **kwargs)

    monkeypatch.setattr(stylenet.nn.vgg, "VGGFeatures", recording)
    run(config(f"image={image_file}", "perceptual.pooling=avg", f"output={tmp_path / 'a.png'}"))
    assert seen == ["avg"]
    line = cli_error_line("invert", f"image={image_file}", "pooling=avg", cwd=tmp_path)
    assert line.startswith("stylenet: error: unknown option pooling")
