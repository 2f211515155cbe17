"""Held-out quality per CPU-hour: one named recipe change against today's recipe, at equal
wall-clock, on the held-out curve that ``stylenet-train`` records (``heldout.csv``).

Each run is ``stylenet-train`` with the base recipe (default: the shipped one,
``experiment=ship style=<style>``) plus the change's overrides, stopped after ``--minutes``
of training (Lightning's ``trainer.max_time``; a run resumes from its ``last.ckpt`` and its
clock continues). The verdict compares each change's last held-out loss (content + style on
the held-out photos) with the baseline's curve interpolated at the same training minutes.

    python scripts/experiment_quality.py --list
    python scripts/experiment_quality.py lr_2e-3 batch_2 --style the_scream --minutes 60
    python scripts/experiment_quality.py --report --style starry_night    # table + curves.png

Runs go to ``--out/<style>/<change>/`` (default ``outputs/experiments``); ``curves.png`` there
overlays every run's held-out loss against minutes. On a CPU shared with other jobs, equal
wall-clock is not equal work: run experiments alone on the machine.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASELINE = "baseline"
# name -> Hydra overrides on top of the base recipe: each changes ONE thing
CHANGES: dict[str, list[str]] = {
    BASELINE: [],
    "lr_2e-3": ["lr=2e-3"],
    "lr_5e-4": ["lr=5e-4"],
    "batch_2": ["data.batch_size=2"],
    "batch_8": ["data.batch_size=8"],
    "crops_128": ["data.image_size=128"],
    "johnson": ["model=johnson"],
    "johnson_fast": ["model=johnson_fast"],
    "style_size_256": ["style.size=256"],
    "style_size_768": ["style.size=768"],
    "fp32": ["trainer.precision=32-true"],
}


def base_recipe(style: str) -> list[str]:
    """Today's recipe of the shipped single-style models, for ``style``."""
    return ["experiment=ship", f"style={style}"]


def time_budget(minutes: float) -> str:
    """``trainer.max_time`` as Lightning's ``DD:HH:MM:SS`` (at least one second)."""
    seconds = max(1, round(minutes * 60))
    days, rest = divmod(seconds, 86400)
    return f"{days:02d}:{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"


def run_dir(out: Path, style: str, change: str) -> Path:
    return out / style / change


def train_command(
    change: str, *, style: str, minutes: float, out: Path, base: Sequence[str]
) -> list[str]:
    """The ``stylenet-train`` command line of one run (resuming when it has a checkpoint)."""
    folder = run_dir(out, style, change)
    last = folder / "checkpoints" / "last.ckpt"
    return [
        sys.executable,
        "-m",
        "stylenet.cli.train",
        *base,
        *CHANGES[change],
        "trainer.max_steps=1000000",  # the clock stops the run
        f"+trainer.max_time={time_budget(minutes)}",
        f"resume={last if last.is_file() else 'null'}",
        f"hydra.run.dir={folder}",
        "hydra.output_subdir=null",
    ]


@dataclass
class Curve:
    """One run's held-out curve: (minutes, content + style loss) points and the last step."""

    change: str
    points: list[tuple[float, float]]
    steps: int

    def loss_at(self, minutes: float) -> float | None:
        """The loss interpolated at ``minutes`` (None outside the curve)."""
        for (m0, l0), (m1, l1) in zip(self.points, self.points[1:], strict=False):
            if m0 <= minutes <= m1:
                return l0 if m1 == m0 else l0 + (l1 - l0) * (minutes - m0) / (m1 - m0)
        if self.points and minutes == self.points[-1][0]:
            return self.points[-1][1]
        return None


def read_curve(folder: Path, change: str) -> Curve | None:
    """The run's ``heldout.csv`` as a :class:`Curve` (None when it has none yet)."""
    path = folder / "heldout.csv"
    if not path.is_file():
        return None
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    if not rows:
        return None
    points = [(float(r["minutes"]), float(r["loss"])) for r in rows]
    return Curve(change, points, int(rows[-1]["step"]))


@dataclass
class Verdict:
    change: str
    minutes: float
    steps: int
    loss: float
    baseline_loss: float | None

    @property
    def ratio(self) -> float | None:
        return None if self.baseline_loss is None else self.loss / self.baseline_loss


def verdicts(curves: Sequence[Curve]) -> list[Verdict]:
    """Each run's last point against the baseline curve at the same minutes."""
    baseline = next((c for c in curves if c.change == BASELINE), None)
    result = []
    for curve in curves:
        minutes, loss = curve.points[-1]
        reference = None
        if baseline is not None:
            reference = baseline.loss_at(min(minutes, baseline.points[-1][0]))
        result.append(Verdict(curve.change, minutes, curve.steps, loss, reference))
    return result


def table(style: str, rows: Sequence[Verdict]) -> str:
    """Markdown rows for docs/BENCHMARKS.md."""
    lines = [
        "| style | change | overrides | minutes | steps | held-out content + style | vs baseline |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        ratio = "–" if row.ratio is None else f"{row.ratio - 1:+.1%}"
        overrides = " ".join(CHANGES.get(row.change, [])) or "(today's recipe)"
        lines.append(
            f"| {style} | {row.change} | `{overrides}` | {row.minutes:.1f} | {row.steps} | "
            f"{row.loss:.4g} | {ratio} |"
        )
    return "\n".join(lines)


def report(out: Path, style: str) -> str:
    """The table of every run under ``out/style`` and ``curves.png`` overlaying them."""
    from stylenet.data.chart import line_chart

    folder = out / style
    curves = []
    if folder.is_dir():
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
            curve = read_curve(sub, sub.name)
            if curve is not None:
                curves.append(curve)
    if not curves:
        raise SystemExit(f"no runs with a heldout.csv under {folder}")
    curves.sort(key=lambda c: (c.change != BASELINE, c.change))
    chart = line_chart(
        {c.change: c.points for c in curves},
        title=f"held-out content + style, {style}",
        x_label="training minutes",
        y_label="loss",
    )
    chart.save(folder / "curves.png")
    return table(style, verdicts(curves))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("changes", nargs="*", help=f"of {', '.join(CHANGES)} (baseline always)")
    parser.add_argument("--style", default="starry_night")
    parser.add_argument("--minutes", type=float, default=60.0, help="training wall-clock per run")
    parser.add_argument("--out", default="outputs/experiments", help="where the runs go")
    parser.add_argument(
        "--base", default=None, help="base overrides (default: experiment=ship style=<style>)"
    )
    parser.add_argument("--list", action="store_true", help="print the named changes and exit")
    parser.add_argument("--report", action="store_true", help="only the table of existing runs")
    args = parser.parse_args(argv)
    if args.list:
        for name, overrides in CHANGES.items():
            print(f"{name:16s} {' '.join(overrides) or '(today recipe)'}")
        return
    out = Path(args.out).resolve()
    if not args.report:
        unknown = [c for c in args.changes if c not in CHANGES]
        if unknown:
            raise SystemExit(f"unknown change(s) {unknown}; --list shows them")
        if not args.minutes > 0:
            raise SystemExit(f"--minutes must be > 0, got {args.minutes}")
        base = args.base.split() if args.base else base_recipe(args.style)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        for change in dict.fromkeys([BASELINE, *args.changes]):
            command = train_command(
                change, style=args.style, minutes=args.minutes, out=out, base=base
            )
            print(" ".join(command), flush=True)
            subprocess.run(command, check=True, cwd=REPO, env=env)
    print(report(out, args.style))


if __name__ == "__main__":
    main()
