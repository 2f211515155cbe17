"""Build the Lightning Trainer a training run uses: checkpoints (periodic, last, on a crash),
the logger, the held-out callbacks and the resolved precision, without Lightning's noise."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import Callback, ModelCheckpoint, OnExceptionCheckpoint
from lightning.pytorch.loggers import CSVLogger, Logger
from omegaconf import DictConfig

from stylenet.cli.train_heldout import heldout_callbacks
from stylenet.cli.train_options import resumed_step, training_precision
from stylenet.config import build
from stylenet.errors import ConfigError

log = logging.getLogger(__name__)


def build_logger(cfg: DictConfig, output: Path) -> Logger:
    """CSV (default) or TensorBoard logs under ``output/logs``.

    Lightning's CSV logger replaces an existing ``metrics.csv``, so a resumed run logs to
    ``logs/from_step_NNNNNN/metrics.csv`` and the earlier segments stay (where segments
    overlap, the later one holds the steps that count: they were trained again after resume).
    """
    if cfg.logger == "tensorboard":
        from lightning.pytorch.loggers import TensorBoardLogger

        try:
            return TensorBoardLogger(save_dir=str(output), name="logs", version="")
        except ModuleNotFoundError as error:
            raise ConfigError(
                "logger=tensorboard needs TensorBoard: pip install tensorboard (or use logger=csv)"
            ) from error
    start = resumed_step(cfg)
    return CSVLogger(
        save_dir=str(output), name="logs", version=f"from_step_{start:06d}" if start else ""
    )


LIGHTNING_NOISE = (
    r".*module\(s\) in eval mode.*",  # the frozen VGG stays in eval mode on purpose
    r".*was called without a model.*",
    r".*there is no last checkpoint available.*",
    r".*smaller than the logging interval.*",
    r".*LeafSpec.*",
    # the photo stream follows global_step (stylenet.data.photos), so any resume is exact
    r".*your dataloader is not resumable.*",
)


def silence_lightning_noise() -> None:
    """Hide Lightning warnings that do not apply to style training, and its info banners
    (accelerator, tips), which would otherwise surround error lines."""
    for name in ("utilities.rank_zero", "trainer.connectors.checkpoint_connector"):
        logging.getLogger(f"lightning.pytorch.{name}").setLevel(logging.WARNING)
    for pattern in LIGHTNING_NOISE:
        warnings.filterwarnings("ignore", message=pattern)


def build_trainer(
    cfg: DictConfig, output: Path, *, extra_callbacks: list[Callback] | None = None
) -> L.Trainer:
    """Lightning Trainer with periodic + last checkpoints, a crash checkpoint and a logger."""
    folder = output / "checkpoints"
    periodic = ModelCheckpoint(
        dirpath=folder,
        filename="step_{step:06d}",
        auto_insert_metric_name=False,
        every_n_train_steps=int(cfg.checkpoint_every),
        save_last=True,
        save_top_k=int(cfg.keep_checkpoints),
        monitor="step",
        mode="max",
        # decide at each step: otherwise Lightning defers the save of an epoch's last step to a
        # validation that may never come (step checkpoints went missing at epoch ends)
        save_on_train_epoch_end=True,
    )
    on_crash = OnExceptionCheckpoint(dirpath=folder, filename="interrupted")
    silence_lightning_noise()
    precision, reason = training_precision(cfg)
    log.info("precision %s (%s)", precision, reason)
    return build(
        cfg.trainer,
        precision=precision,
        default_root_dir=str(output),
        callbacks=[periodic, on_crash, *heldout_callbacks(cfg, output), *(extra_callbacks or [])],
        logger=build_logger(cfg, output),
        enable_progress_bar=bool(cfg.progress),
        enable_model_summary=False,
    )
