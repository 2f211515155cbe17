from __future__ import annotations

from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset

from stylenet.lit.progress import RunProgressBar


class Line(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self.layer(batch[0]).pow(2).mean()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.01)


def fit(tmp_path: Path, steps: int, ckpt: Path | None = None) -> RunProgressBar:
    bar = RunProgressBar()
    trainer = L.Trainer(
        max_steps=steps,
        callbacks=[bar],
        default_root_dir=str(tmp_path),
        logger=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    data = DataLoader(TensorDataset(torch.rand(10, 2)), batch_size=2)  # 5 steps an epoch
    trainer.fit(Line(), data, ckpt_path=ckpt)
    return bar


def test_the_bar_spans_the_run_not_an_epoch(tmp_path: Path) -> None:
    bar = fit(tmp_path, 12)
    assert bar.train_progress_bar.total == 12 and bar.train_progress_bar.n == 12
    assert "epoch 2" in bar.train_progress_bar.desc  # three epochs on one bar


def test_a_resumed_run_counts_on_from_its_step(tmp_path: Path) -> None:
    fit(tmp_path, 7)
    ckpt = next((tmp_path / "checkpoints").glob("*.ckpt"))
    bar = fit(tmp_path, 11, ckpt)
    assert bar.train_progress_bar.initial == 7 and bar.train_progress_bar.n == 11
    assert bar.train_progress_bar.total == 11
