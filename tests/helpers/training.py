"""Tiny training configs for the CLI tests: the smoke experiment on a random VGG at 40 px."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from stylenet.cli.config import config_dir
from stylenet.cli.train import run

SMOKE = [
    "experiment=smoke",
    "perceptual=random",
    "data.image_size=40",
    "painting.size=64",
    "progress=false",
]


def train_config(*overrides: str) -> DictConfig:
    """``conf/train.yaml`` composed with :data:`SMOKE` and ``overrides``."""
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3", job_name="train"):
        return compose(config_name="train", overrides=[*SMOKE, *overrides])


def smoke_config(photos: Path, style: Path, out: Path | None, *overrides: str) -> DictConfig:
    """A one-style (wave, painted by ``style``) run on ``photos``, in ``out`` when given."""
    run_dir = [] if out is None else [f"hydra.run.dir={out}"]
    return train_config(
        f"data.root={photos}", "painting=wave", f"painting.image={style}", *run_dir, *overrides
    )


def train(cfg: DictConfig, out: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``stylenet.cli.train.run(cfg)`` writing into ``out``; returns ``last.ckpt``."""
    monkeypatch.setattr("stylenet.cli.train.run_dir", lambda: out)
    return run(cfg)
