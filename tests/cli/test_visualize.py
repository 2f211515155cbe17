"""stylenet-visualize: class and neuron visualisation end to end; one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from PIL import Image

from stylenet.cli.config import config_dir
from stylenet.cli.visualize import run
from stylenet.errors import ConfigError
from tests.helpers.cli import cli_error_line


def config(*overrides: str):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(
            config_name="visualize",
            overrides=["size=24", "steps=4", "progress=false", *overrides],
        )


@pytest.mark.slow
def test_vgg_channel(tmp_path: Path, capsys) -> None:
    out = run(
        config("classifier=random", "layer=relu1_2", "target=5", f"output={tmp_path / 'v.png'}")
    )
    assert Image.open(out).size == (24, 24)
    assert "class 5" in capsys.readouterr().out


@pytest.mark.slow
def test_saved_classifier_class_and_unit(
    saved_classifier: Path, tmp_path: Path, image_file: Path
) -> None:
    common = [f"classifier={saved_classifier}", "norm_pct=10", "contrib_pct=10"]
    assert run(config(*common, "target=2", f"output={tmp_path / 'c.png'}")).is_file()
    unit = run(
        config(
            *common,
            "target=1",
            "unit_layer=1",
            f"init={image_file}",
            f"output={tmp_path / 'u.png'}",
        )
    )
    assert unit.is_file()
    with pytest.raises(ConfigError, match="out of range"):
        run(config(*common, "target=3", f"output={tmp_path / 'x.png'}"))


def test_bad_values() -> None:
    with pytest.raises(ConfigError, match="l2_decay"):
        run(config("classifier=random", "l2_decay=1.5"))
    with pytest.raises(ConfigError, match="target"):
        run(config("classifier=random", "target=null"))


@pytest.mark.slow
def test_cli_reports_one_error_line(tmp_path: Path) -> None:
    line = cli_error_line("visualize", "classifier=nope.pt", cwd=tmp_path)
    assert line.startswith("stylenet: error:")
