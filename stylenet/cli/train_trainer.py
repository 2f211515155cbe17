"""Build the Lightning Trainer a training run uses: the configured callbacks and loggers
(stylenet/cli/train_callbacks.py), the held-out callbacks and the resolved precision, without
Lightning's noise."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import Callback
from omegaconf import DictConfig

from stylenet.cli.config import build
from stylenet.cli.train_callbacks import build_callbacks, build_loggers
from stylenet.cli.train_heldout import finetune_gate_callbacks, heldout_callbacks
from stylenet.cli.train_options import training_precision

log = logging.getLogger(__name__)


LIGHTNING_NOISE = (
    r".*module\(s\) in eval mode.*",  # the frozen VGG stays in eval mode on purpose
    r".*was called without a model.*",
    r".*there is no last checkpoint available.*",
    r".*smaller than the logging interval.*",
    r".*LeafSpec.*",
    # the photo stream follows global_step (stylenet.data.photos), so any resume is exact
    r".*your dataloader is not resumable.*",
    # a resumed run writes its step checkpoints into its own folder, the one it was resumed in
    # included; the checkpoint callback keeps no best-k (it monitors nothing) to carry over
    r".*The dirpath has changed from.*",
    r".*Checkpoint directory .* exists and is not empty.*",
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
    """Lightning Trainer with the ``callbacks`` and ``logger`` groups' callbacks and loggers
    (periodic + last checkpoints, a crash checkpoint, the CSV log by default), the held-out
    evaluation, the fine-tune gate of ``experiment=new_style`` and the resolved precision."""
    callbacks = [  # the gate first: the held-out score after the last step is the kept network's
        *build_callbacks(cfg, output),
        *finetune_gate_callbacks(cfg),
        *heldout_callbacks(cfg, output),
    ]
    loggers = build_loggers(cfg, output)
    silence_lightning_noise()
    precision, reason = training_precision(cfg)
    log.info("precision %s (%s)", precision, reason)
    return build(
        cfg.trainer,
        precision=precision,
        default_root_dir=str(output),
        callbacks=[*callbacks, *(extra_callbacks or [])],
        logger=loggers or False,
        enable_progress_bar=bool(cfg.progress),
        enable_model_summary=False,
    )
