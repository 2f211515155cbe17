"""``stylenet-train``: train a feed-forward style network from the Hydra config ``conf/train.yaml``."""

from __future__ import annotations

import logging
from pathlib import Path

import lightning as L
from omegaconf import DictConfig

from stylenet.cli.app import command
from stylenet.cli.errors import exit_on_error
from stylenet.cli.paths import run_dir
from stylenet.cli.train_setup import (
    build_datamodule,
    build_module,
    build_trainer,
    validate_train_config,
)
from stylenet.config import train_config_dir

log = logging.getLogger(__name__)


def run(cfg: DictConfig) -> Path:
    """Train (or resume) as ``cfg`` says; returns the path of ``checkpoints/last.ckpt``."""
    validate_train_config(cfg)
    L.seed_everything(int(cfg.seed), workers=True, verbose=False)
    output = run_dir()
    datamodule = build_datamodule(cfg)
    module = build_module(cfg, output)
    trainer = build_trainer(cfg, output)
    trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.resume, weights_only=True)
    last = output / "checkpoints" / "last.ckpt"
    log.info("checkpoints in %s", last.parent)
    return last


@command(config_path=train_config_dir(), config_name="train")
def main(cfg: DictConfig) -> None:
    path = exit_on_error(run, cfg)
    print(f"last checkpoint: {path}")


if __name__ == "__main__":
    main()
