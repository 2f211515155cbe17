from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from tests.conftest import load_script

train_shipped = load_script("train_shipped")


@pytest.mark.parametrize(("name", "budget"), [("starry_night", 2000), ("multi_style", 8000)])
def test_recipes_compose_with_their_step_budgets(name: str, budget: int) -> None:
    assert train_shipped.step_budget(name) == budget


def test_steps_done_reads_the_last_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(train_shipped, "REPO", tmp_path)
    assert train_shipped.steps_done("wave") == 0
    folder = tmp_path / "training" / "wave" / "checkpoints"
    folder.mkdir(parents=True)
    torch.save({"global_step": 700, "state_dict": {}}, folder / "last.ckpt")
    assert train_shipped.steps_done("wave") == 700


def test_unknown_models_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["train_shipped.py", "--status", "mona_lisa"])
    with pytest.raises(SystemExit, match="unknown model"):
        train_shipped.main()
