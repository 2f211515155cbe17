"""``stylenet-train``: train a feed-forward style network from the Hydra config ``conf/train.yaml``."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
import lightning as L
from omegaconf import DictConfig

from stylenet.cli.errors import exit_on_error
from stylenet.cli.paths import run_dir
from stylenet.cli.train_resume import (
    SaveTrainConfig,
    check_steps_left,
    resume_config,
    resume_run_dir,
)
from stylenet.cli.train_setup import (
    build_datamodule,
    build_module,
    build_trainer,
    resumed_step,
    validate_train_config,
)
from stylenet.config import train_config_dir

log = logging.getLogger(__name__)

EXIT_INTERRUPTED = 130  # the shell's status for a process ended by SIGINT


class TrainingInterrupted(Exception):
    """Ctrl-C during training; ``path`` is the checkpoint saved on the way out (or ``None``)."""

    def __init__(self, path: Path | None) -> None:
        super().__init__(f"interrupted, saved {path}" if path else "interrupted, nothing saved")
        self.path = path


def run(cfg: DictConfig) -> Path:
    """Train (or resume) as ``cfg`` says; returns the path of ``checkpoints/last.ckpt``.

    With ``resume=CKPT`` the run's own config (stored in the checkpoint) is the base and what
    ``cfg`` changes relative to the defaults is applied on top."""
    cfg = resume_config(cfg)
    validate_train_config(cfg)
    check_steps_left(cfg, resumed_step(cfg))
    L.seed_everything(int(cfg.seed), workers=True, verbose=False)
    output = run_dir()
    datamodule = build_datamodule(cfg)
    module = build_module(cfg, output)
    trainer = build_trainer(cfg, output, extra_callbacks=[SaveTrainConfig(cfg)])
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.resume)
    except SystemExit:  # Lightning turns Ctrl-C into exit(1) after its crash checkpoint
        if not trainer.interrupted:
            raise
        saved = output / "checkpoints" / "interrupted.ckpt"
        raise TrainingInterrupted(saved if saved.is_file() else None) from None
    last = output / "checkpoints" / "last.ckpt"
    log.info("checkpoints in %s", last.parent)
    return last


@hydra.main(version_base="1.3", config_path=train_config_dir(), config_name="train")
def _main(cfg: DictConfig) -> None:
    try:
        path = exit_on_error(run, cfg)
    except TrainingInterrupted as interrupted:
        print(f"stylenet: {interrupted}", file=sys.stderr)
        raise SystemExit(EXIT_INTERRUPTED) from None
    print(f"last checkpoint: {path}")


def main() -> None:
    """``stylenet-train``: a resumed run continues in its own run folder unless told otherwise."""
    sys.argv = resume_run_dir(sys.argv)
    _main()


if __name__ == "__main__":
    main()
