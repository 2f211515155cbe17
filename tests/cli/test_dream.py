"""stylenet-dream: a tiny dream end to end, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from PIL import Image

from stylenet.cli.config import config_dir
from stylenet.cli.dream import run
from stylenet.errors import ConfigError, ImageError
from tests.helpers.cli import cli_error_line


def config(*overrides: str):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(
            config_name="dream",
            overrides=[
                "classifier=random",
                "layer=relu2_1",
                "max_side=40",
                "octaves=2",
                "iterations=2",
                "jitter=4",
                "progress=false",
                *overrides,
            ],
        )


@pytest.mark.slow
def test_dreams_on_a_photo(tmp_path: Path, image_file: Path, capsys) -> None:
    out = run(config(f"image={image_file}", f"output={tmp_path / 'dream.png'}"))
    assert Image.open(out).size == (40, 30)
    printed = capsys.readouterr().out
    before, after = (float(v) for v in printed.split("²")[1].split("(")[0].split("→"))
    assert after > before


@pytest.mark.slow
def test_channel_and_guide(tmp_path: Path, image_file: Path) -> None:
    out = run(
        config(
            f"image={image_file}",
            "channel=3",
            f"guide={image_file}",
            "guide_max_side=32",
            f"output={tmp_path / 'g.jpg'}",
        )
    )
    assert out.is_file()


def test_dreams_with_a_saved_classifier_layer(
    saved_classifier: Path, tmp_path: Path, image_file: Path
) -> None:
    out = run(
        config(f"image={image_file}", f"classifier={saved_classifier}", "layer=1",
               f"output={tmp_path / 'n.png'}")
    )  # fmt: skip
    assert Image.open(out).size == (40, 30)


def test_bad_values(tmp_path: Path, image_file: Path) -> None:
    with pytest.raises(ConfigError, match="octave_scale"):
        run(config(f"image={image_file}", "octave_scale=0"))
    with pytest.raises(ConfigError, match="channel"):
        run(config(f"image={image_file}", "channel=9999", f"output={tmp_path / 'x.png'}"))
    with pytest.raises(ConfigError, match="smallest octave"):
        run(config(f"image={image_file}", "octaves=6"))
    with pytest.raises(ImageError):
        run(config(f"image={tmp_path / 'missing.jpg'}"))


@pytest.mark.slow
def test_cli_reports_one_error_line(tmp_path: Path) -> None:
    line = cli_error_line("dream", "image=missing.jpg", "classifier=random", cwd=tmp_path)
    assert line.startswith("stylenet: error:")
