"""The script is a thin wrapper over :mod:`stylenet.eval` (tested in tests/eval): run it end
to end on a tiny model, a random VGG and two iteration counts."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image
from torch import nn

from tests.helpers.images import synthetic_rgb
from tests.helpers.scripts import load_script

pytestmark = pytest.mark.slow

compare_script = load_script("compare_fast_vs_gatys")


def test_prints_the_comparison_table(tmp_path: Path, capsys) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.Hardtanh(0.0, 255.0)).eval()
    torch.save(model, tmp_path / "fast.pt")
    (tmp_path / "photos").mkdir()
    Image.fromarray(synthetic_rgb(32, 40)).save(tmp_path / "photos" / "a.png")
    Image.fromarray(synthetic_rgb(32, 32, seed=3)).save(tmp_path / "style.png")
    argv = ["--model", str(tmp_path / "fast.pt"), "--style", str(tmp_path / "style.png")]
    argv += ["--photos", str(tmp_path / "photos"), "--perceptual", "random", "--size", "32"]
    argv += ["--style-size", "32", "--iterations", "1", "3"]
    compare_script.main(argv)
    out = capsys.readouterr().out
    assert out.startswith("1 photos at 32 px, perceptual=random")
    assert "| fast model |" in out and "| Gatys 1 it |" in out and "| Gatys 3 it |" in out
