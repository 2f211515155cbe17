"""stylenet-saliency: every method on a VGG and on a saved classifier; one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from PIL import Image

from stylenet.cli.config import config_dir
from stylenet.cli.saliency import METHODS, run
from stylenet.errors import ConfigError
from tests.helpers.cli import cli_error_line


def config(*overrides: str):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(
            config_name="saliency",
            overrides=[
                "max_side=32",
                "smoothgrad.samples=2",
                "occlusion.patch=16",
                "occlusion.stride=16",
                "progress=false",
                *overrides,
            ],
        )


@pytest.mark.slow
def test_all_methods_on_random_vgg_channels(tmp_path: Path, image_file: Path) -> None:
    written = run(
        config(
            f"image={image_file}",
            "classifier=random",
            "layer=relu2_1",
            "neuron.layer=relu1_2",
            f"output={tmp_path}",
        )
    )
    assert set(written) == set(METHODS) | {f"{m}_overlay" for m in METHODS}
    for path in written.values():
        assert Image.open(path).size == (32, 24)


@pytest.mark.slow
def test_saved_classifier_with_target(
    saved_classifier: Path, tmp_path: Path, image_file: Path
) -> None:
    written = run(
        config(
            f"image={image_file}",
            f"classifier={saved_classifier}",
            "target=2",
            "neuron.layer=0",
            "neuron.channel=1",
            "neuron.position=[3,4]",
            f"output={tmp_path / 'maps'}",
        )
    )
    assert (tmp_path / "maps" / "gradcam_overlay.png") == written["gradcam_overlay"]
    neuron = run(
        config(f"image={image_file}", f"classifier={saved_classifier}", "method=neuron",
               f"output={tmp_path / 'n'}")
    )  # fmt: skip
    assert set(neuron) == {"neuron", "neuron_overlay"}
    with pytest.raises(ConfigError, match="out of range"):
        run(config(f"image={image_file}", f"classifier={saved_classifier}", "target=3"))


def test_bad_method(image_file: Path) -> None:
    with pytest.raises(ConfigError, match="method must be one of"):
        run(config(f"image={image_file}", "method=lime"))


@pytest.mark.slow
def test_cli_reports_one_error_line(tmp_path: Path, image_file: Path, monkeypatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty hub cache
    line = cli_error_line("saliency", f"image={image_file}", "classifier=resnet18", cwd=tmp_path)
    assert line.startswith("stylenet: error:")
    assert "weights=none" in line
