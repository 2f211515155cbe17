"""stylenet-fool: targeted attack and FGSM on a saved tiny classifier; report; one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from PIL import Image
from torch import nn

from stylenet.cli.config import config_dir
from stylenet.cli.fool import run
from stylenet.errors import ConfigError
from tests.helpers.cli import cli_error_line


@pytest.fixture
def net_file(tmp_path: Path) -> Path:
    net = nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(6, 4),
    )
    path = tmp_path / "net.pt"
    torch.save(net, path)
    return path


def config(*overrides: str):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(config_name="fool", overrides=["max_side=32", "progress=false", *overrides])


@pytest.mark.slow
def test_targeted_attack_writes_image_perturbation_and_report(
    tmp_path: Path, image_file: Path, net_file: Path
) -> None:
    out = tmp_path / "adv.png"
    result = run(
        config(
            f"image={image_file}", f"classifier={net_file}", "target=1", "epsilon=0.1",
            "step_size=0.02", "steps=10", f"output={out}",
        )
    )  # fmt: skip
    assert Image.open(out).size == (32, 24)
    assert (tmp_path / "adv_perturbation.png").is_file()
    facts = json.loads((tmp_path / "adv.json").read_text())
    assert facts["target"] == 1 and facts["linf"] <= 0.1 + 1e-6
    assert facts["target_confidence_after"] > facts["target_confidence_before"]
    assert result.target_confidence_after == facts["target_confidence_after"]


def test_fgsm(tmp_path: Path, image_file: Path, net_file: Path) -> None:
    result = run(
        config(f"image={image_file}", f"classifier={net_file}", "method=fgsm", "epsilon=0.02",
               f"output={tmp_path / 'f.png'}")
    )  # fmt: skip
    assert result.linf <= 0.02 + 1e-6 and result.steps == 1


def test_bad_values(image_file: Path, net_file: Path) -> None:
    with pytest.raises(ConfigError, match="needs target"):
        run(config(f"image={image_file}", f"classifier={net_file}"))
    with pytest.raises(ConfigError, match="method"):
        run(config(f"image={image_file}", f"classifier={net_file}", "method=cw"))
    with pytest.raises(ConfigError, match="epsilon"):
        run(config(f"image={image_file}", f"classifier={net_file}", "epsilon=0", "target=1"))


@pytest.mark.slow
def test_cli_reports_one_error_line(tmp_path: Path, image_file: Path) -> None:
    line = cli_error_line(
        "fool",
        f"image={image_file}",
        "classifier=random",
        "layer=relu1_1",
        "max_side=32",
        "method=targeted",
        cwd=tmp_path,
    )
    assert line == (
        "stylenet: error: method=targeted needs target=<class index> (the class to make it predict)"
    )
