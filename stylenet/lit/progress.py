"""A progress bar over the whole run: ``step / trainer.max_steps`` and the time left.

Lightning's :class:`~lightning.pytorch.callbacks.TQDMProgressBar` restarts at every epoch, so
its estimate is the epoch's (a few dozen steps on a small photo folder). This one counts
optimiser steps from where the run starts (a resumed run: its step) to ``max_steps``, so tqdm's
``[elapsed<remaining]`` is the run's; the rate is the run's mean (validation included).
"""

from __future__ import annotations

import math
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import TQDMProgressBar


class RunProgressBar(TQDMProgressBar):
    """:class:`TQDMProgressBar` whose training bar spans the run's steps, not an epoch's."""

    def on_train_start(self, trainer: L.Trainer, *_: Any) -> None:
        # here, not at an epoch's start: a run resumed mid-epoch starts no epoch
        super().on_train_start(trainer)
        bar = self.train_progress_bar
        steps = trainer.max_steps
        bar.reset(total=steps if steps and steps > 0 else math.inf)
        bar.initial = trainer.global_step  # the rate (and so the time left) counts this run's steps
        bar.n = trainer.global_step
        bar.set_description(f"Training (epoch {trainer.current_epoch})")
        bar.refresh()

    def on_train_epoch_start(self, trainer: L.Trainer, *_: Any) -> None:
        self.train_progress_bar.set_description(f"Training (epoch {trainer.current_epoch})")

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, idx: int
    ) -> None:
        bar = self.train_progress_bar
        step = trainer.global_step
        if bar is not None and self._should_update(step, bar.total):
            bar.n = step
            bar.set_postfix(self.get_metrics(trainer, pl_module), refresh=False)
            bar.refresh()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self.train_progress_bar.disable:
            self.train_progress_bar.set_postfix(self.get_metrics(trainer, pl_module))
