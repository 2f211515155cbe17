"""The script is a thin wrapper over :mod:`stylenet.eval.quality` (tested in tests/eval): run
it end to end on a tiny checkpoint and a random VGG."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.helpers.images import synthetic_rgb
from tests.helpers.networks import write_checkpoint
from tests.helpers.scripts import load_script

pytestmark = pytest.mark.slow

quality_report = load_script("quality_report")


def test_prints_one_row_per_style(tmp_path: Path, capsys) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "styles").mkdir()
    Image.fromarray(synthetic_rgb(32, 40)).save(tmp_path / "photos" / "a.png")
    Image.fromarray(synthetic_rgb(32, 32, seed=3)).save(tmp_path / "styles" / "wave.png")
    model = write_checkpoint(tmp_path / "tiny.ckpt", ["wave"], {})
    argv = [str(model), "--photos", str(tmp_path / "photos"), "--styles", str(tmp_path / "styles")]
    argv += ["--perceptual", "random", "--size", "32", "--repeats", "1", "--iterations", "1", "2"]
    argv += ["--style-size", "32"]
    quality_report.main(argv)
    out = capsys.readouterr().out
    assert out.startswith(f"1 photos of {tmp_path / 'photos'} at 32 px, perceptual=random")
    assert "| model | style |" in out
    (row,) = [line for line in out.splitlines() if line.startswith("| tiny |")]
    assert row.startswith("| tiny | wave | 10000 |") and row.count("|") == 10
