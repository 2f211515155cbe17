from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from stylenet.cli.config import config_dir
from stylenet.cli.export import run
from stylenet.errors import CheckpointError, ConfigError
from tests.helpers.cli import cli_error_line
from tests.helpers.networks import STYLES, multi_style_net


def config(*overrides: str):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(config_name="export", overrides=list(overrides))


def write_checkpoint(path: Path) -> Path:
    """A checkpoint dict per the contract in stylenet.nn.checkpoint (no training code)."""
    net = multi_style_net()
    torch.save(
        {
            "state_dict": {f"net.{k}": v for k, v in net.state_dict().items()},
            "global_step": 12,
            "hyper_parameters": {
                "model": dict(net.config),
                "styles": list(STYLES),
                "facts": {"style_weight": 5.0},
            },
        },
        path,
    )
    return path


@pytest.mark.slow
def test_exports_a_checkpoint_with_its_card(tmp_path: Path) -> None:
    ckpt = write_checkpoint(tmp_path / "trio.ckpt")
    out = tmp_path / "exported" / "trio.onnx"
    files = run(config(f"model={ckpt}", f"out={out}"))
    assert [f.path for f in files] == [out] and out.is_file()
    card = json.loads((tmp_path / "exported" / "trio.json").read_text())
    assert card["styles"] == STYLES
    assert card["facts"] == {"style_weight": 5.0, "global_step": 12}
    assert [i["name"] for i in card["contract"]["inputs"]] == ["image", "style_weights"]
    tiling = sorted(p.name for p in (tmp_path / "exported" / "tiling").iterdir())
    assert tiling == ["trio.layers.onnx", "trio.statistics.onnx"]


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        (["model=missing.ckpt"], CheckpointError, "checkpoint not found"),
        (["variants=[fp32,int4]"], ConfigError, "unknown variant"),
        (["num_calibration=0"], ConfigError, "num_calibration must be > 0"),
        (["out=model.pt"], ConfigError, "out must end in .onnx"),
    ],
)
def test_bad_options_raise_one_clear_error(tmp_path: Path, overrides, error, message) -> None:
    ckpt = write_checkpoint(tmp_path / "trio.ckpt")
    with pytest.raises(error, match=message):
        run(config(f"model={ckpt}", *overrides))


@pytest.mark.slow
def test_command_prints_one_error_line_and_exits_2(tmp_path: Path) -> None:
    line = cli_error_line("export", "model=nope.ckpt", cwd=tmp_path)
    assert line.startswith("stylenet: error: checkpoint not found")
