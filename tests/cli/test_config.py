"""``stylenet.cli.config.build``: only the project's own targets are built from a config."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from stylenet.cli.config import build, check_targets, config_dir, upgrade_train_config
from stylenet.errors import ConfigError


def test_a_config_cannot_make_build_call_anything(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    hostile = [
        {"_target_": "pathlib.Path.touch", "_args_": [str(marker)]},
        {  # nested inside an allowed target
            "_target_": "stylenet.nn.transformer.TransformerNet",
            "width": {"_target_": "pathlib.Path.touch", "_args_": [str(marker)]},
        },
        {"_target_": "stylenet.lit.datamodule.PhotoDataModule", "x": [{"_target_": "os.system"}]},
    ]
    for node in hostile:
        with pytest.raises(ConfigError, match="refusing _target_") as error:
            build(OmegaConf.create(node))
        assert "\n" not in str(error.value)
    assert not marker.exists()
    with pytest.raises(ConfigError, match=r"in arguments\.extra"):
        build(OmegaConf.create({"_target_": "datetime.timedelta"}), extra={"_target_": "os.system"})


def test_the_shipped_training_config_builds() -> None:
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose(config_name="train", overrides=["experiment=smoke"])
    check_targets(cfg)  # every target the project ships is allowed
    net = build(cfg.net)
    assert type(net).__name__ == "TransformerNet"
    assert build(OmegaConf.create({"_target_": "datetime.timedelta", "seconds": 3})).seconds == 3


def test_a_training_config_in_the_old_layout_is_upgraded() -> None:
    """Stored before the logger/ and callbacks/ groups, augmentation and the spike penalty."""
    old = {
        "net": {"_target_": "stylenet.nn.transformer.TransformerNet", "width": 0.125},
        "painting": {"name": "wave", "image": "${paths.styles}/wave.jpg", "size": 64},
        "data": {"_target_": "stylenet.lit.datamodule.PhotoDataModule", "seed": "${seed}"},
        "heldout": {"label": "${painting.name} at ${net.width}"},
        "logger": "tensorboard",
        "seed": 3,
    }
    new = upgrade_train_config(old)
    assert set(new) == {
        "net",
        "painting",
        "data",
        "heldout",
        "logger",
        "callbacks",
        "seed",
        "spike_penalty",
    }
    assert new["net"] == old["net"] and new["heldout"] == old["heldout"]
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        today = compose(config_name="train", overrides=["logger=tensorboard"])
    expected = OmegaConf.to_container(today, resolve=False)
    assert new["logger"] == expected["logger"]
    assert new["callbacks"] == expected["callbacks"]  # what runs were built with before
    # stored before photo augmentation: trained without it, as today's default
    assert {k: new["data"][k] for k in ("zoom", "flip")} == {
        k: expected["data"][k] for k in ("zoom", "flip")
    }
    # stored before the spike penalty: trained without it, as today's single-style default
    assert new["spike_penalty"] == expected["spike_penalty"] == {"weight": 0.0, "limit": 4.0}
    assert old["logger"] == "tensorboard" and "callbacks" not in old  # not edited
    check_targets(new)
    assert upgrade_train_config(new) == new  # today's layout stays as it is


def test_an_unknown_old_logger_is_a_one_line_error() -> None:
    with pytest.raises(ConfigError, match="unknown logger 'wandb'; choose logger= from csv"):
        upgrade_train_config({"logger": "wandb"})
