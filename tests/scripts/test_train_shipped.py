from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from tests.conftest import load_script

train_shipped = load_script("train_shipped")


@pytest.mark.parametrize(
    ("name", "budget"), [("starry_night", 2000), ("multi_style", 8000), ("starry_night_fast", 2000)]
)
def test_recipes_compose_with_their_step_budgets(name: str, budget: int) -> None:
    assert train_shipped.step_budget(name) == budget


def test_the_fast_recipe_trains_the_real_time_network_on_its_style() -> None:
    from hydra import compose, initialize_config_dir

    from stylenet.config import train_config_dir

    with initialize_config_dir(config_dir=train_config_dir(), version_base="1.3"):
        cfg = compose(config_name="train", overrides=train_shipped.recipe("starry_night_fast"))
    assert cfg.style.name == "starry_night"
    assert (cfg.model.width, cfg.model.num_res_blocks, cfg.model.outer_kernel) == (0.25, 3, 5)


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
