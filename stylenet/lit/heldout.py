"""Held-out quality during training: the training loss on a fixed set of photos outside the
training set, against training wall-clock time (time-to-quality curves).

Every ``every`` steps (and at the start and the end of a run) the network stylizes each
held-out photo for each trained style, in fp32 whatever the training precision; the mean
content, style and content + style loss (TV excluded: a regulariser, not a quality; the score
of ``scripts/quality_report.py``) are logged as ``heldout/*`` with the training minutes, and
written to ``heldout.csv`` and ``quality_curve.png`` in the run folder. Minutes count training
wall-clock, validation included, the held-out evaluations themselves excluded, summed over the
runs a resumed run continues (the curve lives in the checkpoints). Under DDP every process
scores its share of the photos at the same steps and the sums are reduced, so no process waits
in a collective (and times out) while another evaluates alone.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

from stylenet.data.atomic import atomic_path
from stylenet.data.chart import line_chart
from stylenet.lit.style_module import StyleTransferModule

CSV_NAME = "heldout.csv"
CURVE_NAME = "quality_curve.png"


@torch.no_grad()
def heldout_losses(
    module: StyleTransferModule,
    photos: Sequence[torch.Tensor],
    *,
    total: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> dict[str, float]:
    """Mean ``content``, ``style`` and ``loss`` (content + style) of ``module`` on ``photos``
    (each ``3×H×W`` in [0, 1], sizes may differ) over its trained styles, plus
    ``style/<name>`` per style when there are several. No autocast (fp32 unless the weights
    themselves are in lower precision), network in eval mode.

    ``total``: sums a 1-D tensor over processes (``Strategy.reduce`` with ``"sum"``) when each
    process scores its own share of the photos; the means are then over all of them."""
    net = module.net
    was_training = net.training
    net.eval()
    device = module.device
    dtype = next(net.parameters()).dtype  # float32 unless trained in a *-true precision
    multi = net.is_multi_style
    styles = module.train_styles if multi else [0]
    # [photos, content, style of each trained style], summed here and then over processes
    sums = torch.zeros(2 + len(styles), dtype=torch.float64, device=device)
    sums[0] = len(photos)
    try:
        with torch.autocast(device.type, enabled=False):
            for column, index in enumerate(styles, start=2):
                for photo in photos:
                    batch = photo[None].to(device=device, dtype=dtype)
                    weights = None
                    if multi:
                        weights = torch.zeros(1, len(module.styles), device=device)
                        weights[0, index] = 1.0
                    terms, _ = module.compute_loss(batch, weights)
                    sums[1] += terms.content.sum().double()
                    sums[column] += terms.style.sum().double()
    finally:
        net.train(was_training)
    if total is not None:
        sums = total(sums)
    count, content, *per_style = sums.tolist()
    if count == 0:
        raise ValueError("held-out evaluation needs at least one photo")
    count_all = count * len(styles)
    result = {"content": content / count_all, "style": sum(per_style) / count_all}
    result["loss"] = result["content"] + result["style"]
    if multi and len(styles) > 1:
        for index, value in zip(styles, per_style, strict=True):
            result[f"style/{module.styles[index]}"] = value / count
    return result


class HeldOutEvaluation(Callback):
    """Scores the training network on ``photos`` every ``every`` steps (see the module doc).

    Args:
        photos: the held-out photos, each ``3×H×W`` in [0, 1].
        every: evaluation interval in optimiser steps (>= 1).
        output: the run folder (``heldout.csv`` and ``quality_curve.png`` go there).
        label: what the curve's title says about the photos (e.g. ``8 val2017 photos, 256 px``).
    """

    def __init__(
        self, photos: Sequence[torch.Tensor], *, every: int, output: str | Path, label: str = ""
    ) -> None:
        if not photos:
            raise ValueError("held-out evaluation needs at least one photo")
        if int(every) < 1:
            raise ValueError(f"held-out evaluation interval must be >= 1, got {every}")
        self.photos = list(photos)
        self.every = int(every)
        self.output = Path(output)
        self.label = label
        self.points: list[dict[str, float]] = []
        self._seconds_before = 0.0  # training seconds of the runs this one continues
        self._clock = time.perf_counter()
        self._excluded = 0.0  # seconds spent in held-out evaluations in this process

    # --- the clock and the curve ---------------------------------------------------------
    def training_seconds(self) -> float:
        """Training wall-clock so far, earlier runs included, evaluations excluded."""
        return self._seconds_before + time.perf_counter() - self._clock - self._excluded

    def evaluate(self, trainer: L.Trainer, module: L.LightningModule) -> dict[str, float]:
        """Score the network now; append, log and write the point."""
        if not isinstance(module, StyleTransferModule):
            raise TypeError(f"held-out losses score a StyleTransferModule, not {type(module)}")
        start = time.perf_counter()
        step = int(trainer.global_step)
        point = {"step": step, "minutes": self.training_seconds() / 60}
        rank, world = int(trainer.global_rank), int(trainer.world_size)
        if world > 1:  # every process scores its share, at the same steps (DDP)
            share = self.photos[rank::world]
            point.update(heldout_losses(module, share, total=_sum_over(trainer)))
        else:
            point.update(heldout_losses(module, self.photos))
        self.points = [p for p in self.points if p["step"] < step] + [point]
        if trainer.is_global_zero:
            metrics = {f"heldout/{k}": v for k, v in point.items() if k != "step"}
            for logger in trainer.loggers:
                logger.log_metrics(metrics, step=step)
            self.write()
        self._excluded += time.perf_counter() - start
        return point

    def write(self) -> None:
        """``heldout.csv`` (one row per evaluation) and ``quality_curve.png``, atomically."""
        keys = list(dict.fromkeys(k for p in self.points for k in p))
        with atomic_path(self.output / CSV_NAME) as tmp, open(tmp, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=keys)
            writer.writeheader()
            writer.writerows(self.points)
        series = {
            name: [(p["minutes"], p[key]) for p in self.points]
            for name, key in (
                ("content + style", "loss"),
                ("content", "content"),
                ("style", "style"),
            )
        }
        title = "held-out loss" + (f" ({self.label})" if self.label else "")
        chart = line_chart(series, title=title, x_label="training minutes", y_label="loss")
        with atomic_path(self.output / CURVE_NAME) as tmp:
            chart.save(tmp, format="PNG")

    def _due(self, trainer: L.Trainer) -> bool:
        step = int(trainer.global_step)
        done = bool(self.points) and self.points[-1]["step"] >= step
        return not trainer.sanity_checking and not done

    # --- Lightning hooks -----------------------------------------------------------------
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._clock = time.perf_counter()
        self._excluded = 0.0
        if not self.points and self._due(trainer):
            self.evaluate(trainer, pl_module)  # the starting point of a fresh run

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any, **kwargs: Any
    ) -> None:
        if trainer.global_step % self.every == 0 and self._due(trainer):
            self.evaluate(trainer, pl_module)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._due(trainer):
            self.evaluate(trainer, pl_module)

    def state_dict(self) -> dict[str, Any]:
        # plain lists and floats: checkpoints stay loadable with weights_only=True
        return {"points": [dict(p) for p in self.points], "seconds": self.training_seconds()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.points = [dict(p) for p in state_dict.get("points", [])]
        self._seconds_before = float(state_dict.get("seconds", 0.0))

    def on_load_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        # a checkpoint written without this callback: its recorded training time starts the clock
        facts = (checkpoint.get("hyper_parameters") or {}).get("facts") or {}
        self._seconds_before = float(facts.get("train_seconds", 0.0))


def _sum_over(trainer: L.Trainer) -> Callable[[torch.Tensor], torch.Tensor]:
    def total(tensor: torch.Tensor) -> torch.Tensor:
        return trainer.strategy.reduce(tensor, reduce_op="sum")

    return total
