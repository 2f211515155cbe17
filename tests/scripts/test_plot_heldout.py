from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers.scripts import load_script

plot_heldout = load_script("plot_heldout")
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "plot_heldout.py"


def write_curve(path: Path, rows: list[tuple[float, float]]) -> Path:
    lines = ["step,minutes,content,style,loss"]
    lines += [f"{i * 30},{m},{loss / 2},{loss / 2},{loss}" for i, (m, loss) in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_minutes_to_is_the_first_minute_at_or_below_the_target() -> None:
    curve = [(0.0, 10.0), (2.0, 6.0), (5.0, 4.0), (9.0, 4.5)]
    assert plot_heldout.minutes_to(curve, 6.0) == 2.0
    assert plot_heldout.minutes_to(curve, 4.2) == 5.0
    assert plot_heldout.minutes_to(curve, 3.9) is None


def test_the_table_measures_every_run_against_the_first(tmp_path: Path) -> None:
    scratch = write_curve(tmp_path / "a.csv", [(0, 100.0), (60, 60.0), (120, 50.0)])
    quick = write_curve(tmp_path / "b.csv", [(0, 80.0), (3, 52.0), (12, 49.0)])
    out = tmp_path / "sheet.png"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), "--panel", "p",
         f"scratch={scratch}", f"new={quick}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    rows = [line for line in result.stdout.splitlines() if line.startswith("| p |")]
    assert rows[0].split("|")[2:7] == [" scratch ", " 5.000e+01 ", " 120.0 ", " 120.0 ", " 120.0 "]
    assert rows[1].split("|")[2:7] == [" new ", " 4.900e+01 ", " 12.0 ", " 3.0 ", " 12.0 "]
    with Image.open(out) as sheet:
        assert sheet.size == (560, 400)


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "has no rows"), ("step,loss\n1,2\n", "is not a heldout.csv")],
)
def test_a_bad_curve_is_one_line(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path / "x.png"), "--panel", "p",
         f"a={bad}"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode != 0 and message in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "x.png").exists()


def test_charts_leave_out_points_above_the_cap() -> None:
    runs = {"ref": [(0.0, 9.0), (5.0, 2.0)], "other": [(0.0, 3.0), (1.0, 4.5), (2.0, 1.0)]}
    assert plot_heldout.capped(runs, 2.0) == {
        "ref": [(5.0, 2.0)],
        "other": [(0.0, 3.0), (2.0, 1.0)],
    }
