"""Held-out loss against training minutes for several runs of one painting each, side by side.

    python scripts/plot_heldout.py --out docs/new_style_vs_scratch.png \\
        --panel composition_vii "from scratch=training/composition_vii/heldout.csv" \\
                                "new_style=training/composition_vii_new/heldout.csv"

Each ``--panel NAME LABEL=CSV [LABEL=CSV ...]`` is one chart: every run's ``heldout.csv``
(written by every training run: content + style on the same 8 val2017 photos at 256 px, minutes
of training) as one line. The first run of a panel is its reference: the script prints a
Markdown table with every run's final loss and the training minutes it took to come within 5%
of, and to reach, the reference's final loss. The charts leave out points above ``--cap``
times the reference's final loss (the first minutes, which would flatten the rest).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from stylenet.data.chart import chart_sheet, line_chart

Curve = list[tuple[float, float]]  # (training minutes, held-out loss)
NEAR = 1.05  # "within 5%" of the reference's final loss


def read_curve(path: Path) -> Curve:
    """``(minutes, loss)`` rows of a ``heldout.csv``, in step order."""
    try:
        with path.open(newline="") as file:
            rows = list(csv.DictReader(file))
        curve = [(float(row["minutes"]), float(row["loss"])) for row in rows]
    except OSError as error:
        raise SystemExit(f"cannot read {path}: {error.strerror}") from None
    except (KeyError, TypeError, ValueError):
        raise SystemExit(f"{path} is not a heldout.csv (columns minutes and loss)") from None
    if not curve:
        raise SystemExit(f"{path} has no rows")
    return curve


def minutes_to(curve: Curve, target: float) -> float | None:
    """The first training minute at which ``curve`` is at or below ``target`` (None: never)."""
    return next((minutes for minutes, loss in curve if loss <= target), None)


def parse_run(text: str) -> tuple[str, Path]:
    label, sep, path = text.partition("=")
    if not sep or not label or not path:
        raise SystemExit(f"a run is LABEL=CSV, got {text!r}")
    return label, Path(path)


def capped(runs: dict[str, Curve], cap: float) -> dict[str, Curve]:
    """``runs`` without the points above ``cap`` times the first run's final loss."""
    limit = cap * next(iter(runs.values()))[-1][1]
    return {
        label: [(m, loss) for m, loss in curve if loss <= limit] for label, curve in runs.items()
    }


def table(panels: dict[str, dict[str, Curve]]) -> list[str]:
    """Markdown rows: per run, its final loss and minutes to the reference's final loss."""
    lines = [
        "| painting | run | final held-out loss | training minutes | "
        "minutes to within 5% of the first run's final | minutes to reach it |",
        "|---|---|---:|---:|---:|---:|",
    ]

    def shown(value: float | None) -> str:
        return "never" if value is None else f"{value:.1f}"

    for name, runs in panels.items():
        reference = next(iter(runs.values()))[-1][1]
        for label, curve in runs.items():
            near, reach = minutes_to(curve, NEAR * reference), minutes_to(curve, reference)
            lines.append(
                f"| {name} | {label} | {curve[-1][1]:.3e} | {curve[-1][0]:.1f} | "
                f"{shown(near)} | {shown(reach)} |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--panel",
        nargs="+",
        action="append",
        required=True,
        metavar="NAME LABEL=CSV",
        help="a chart's name and its runs (the first run is the reference)",
    )
    parser.add_argument("--out", type=Path, default=Path("heldout_curves.png"))
    parser.add_argument(
        "--cap",
        type=float,
        default=2.0,
        help="charts leave out points above this times the reference's final loss",
    )
    args = parser.parse_args()
    if args.cap <= 1:
        parser.error(f"--cap must be above 1, got {args.cap}")
    panels: dict[str, dict[str, Curve]] = {}
    for name, *runs in args.panel:
        if not runs:
            parser.error(f"--panel {name} names no run (LABEL=CSV)")
        panels[name] = {label: read_curve(path) for label, path in map(parse_run, runs)}
    print("\n".join(table(panels)))
    charts = [
        line_chart(
            capped(runs, args.cap),
            title=name,
            x_label="training minutes",
            y_label="held-out loss",
            size=(560, 400),
            font_size=12,
        )
        for name, runs in panels.items()
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_name(args.out.name + ".partial.png")
    chart_sheet(charts).save(partial)
    partial.replace(args.out)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
