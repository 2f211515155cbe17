from __future__ import annotations

from pathlib import Path

import torch

from tests.helpers.scripts import load_script

train_arbitrary = load_script("train_arbitrary")


def test_a_resumed_run_logs_into_its_own_folder(tmp_path: Path) -> None:
    last = tmp_path / "last.ckpt"
    assert train_arbitrary.log_version(last) == "version_0"
    torch.save({"state_dict": {}, "global_step": 1500}, last)
    assert train_arbitrary.log_version(last) == "from_step_001500"
