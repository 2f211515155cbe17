"""Held-out quality per CPU-hour: one named recipe change against today's recipe, at equal
wall-clock, on the held-out curve that ``stylenet-train`` records (``heldout.csv``).

Each run is ``stylenet-train`` with the base recipe (default: the shipped one,
``experiment=ship painting=<style>``) plus the change's overrides. Two budgets:

- ``--steps N`` (equal work, for a machine shared with other jobs): the baseline trains N
  steps; every change trains as many steps as fit in the baseline's compute, from the
  training-step times of both recipes measured at the start (round-robin, median; written to
  ``costs.json``). Curves are drawn against these *equivalent minutes* (steps × measured step
  time), which load on the machine does not stretch.
- ``--minutes M`` (equal wall-clock, for an otherwise idle machine): Lightning's
  ``trainer.max_time``; the curves use the wall-clock minutes of ``heldout.csv``.

A run resumes from its ``last.ckpt``. The verdict compares each change's last held-out loss
(content + style on the held-out photos, the baseline recipe's loss) with the baseline's
curve interpolated at the same minutes.

    python scripts/experiment_quality.py --list
    python scripts/experiment_quality.py lr_2e-3 batch_2 --style the_scream --steps 300
    python scripts/experiment_quality.py --report --style starry_night    # table + curves.png

Runs go to ``--out/<style>/<change>/`` (default ``outputs/experiments``); ``curves.png`` there
overlays every run's held-out loss against minutes (from the first evaluation after step 0).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    "johnson": ["net=johnson"],
    "johnson_fast": ["net=johnson_fast"],
    "style_size_256": ["painting.size=256"],
    "style_size_768": ["painting.size=768"],
    "fp32": ["trainer.precision=32-true"],
    # photo augmentation (the shipped models train on 120 photos, ~160 passes over each)
    "flip": ["data.flip=true"],
    "zoom_1.5": ["data.zoom=1.5"],
    "augment": ["data.flip=true", "data.zoom=1.5"],
    # every style layer about a quarter of the style loss (changes the loss: score the runs
    # with scripts/quality_report.py under both losses)
    "layers_balanced": ["perceptual=vgg19_caffe_balanced"],
    "cosine": ["schedule.lr=cosine"],
    "lr_2e-3_cosine": ["lr=2e-3", "schedule.lr=cosine"],
    # today's recipe is coarse-to-fine (schedule.coarse_fraction=0.75): its share, or one scale
    "one_scale": ["schedule.coarse_fraction=0"],
    "coarse_50": ["schedule.coarse_fraction=0.5"],
    "coarse_90": ["schedule.coarse_fraction=0.9"],
}
COSTS_NAME = "costs.json"


def base_recipe(style: str) -> list[str]:
    """Today's recipe of the shipped single-style models, for ``style``."""
    return ["experiment=ship", f"painting={style}"]


def time_budget(minutes: float) -> str:
    """``trainer.max_time`` as Lightning's ``DD:HH:MM:SS`` (at least one second)."""
    seconds = max(1, round(minutes * 60))
    days, rest = divmod(seconds, 86400)
    return f"{days:02d}:{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"


def run_dir(out: Path, style: str, change: str) -> Path:
    return out / style / change


def train_command(
    change: str,
    *,
    style: str,
    out: Path,
    base: Sequence[str],
    minutes: float | None = None,
    steps: int | None = None,
) -> list[str]:
    """The ``stylenet-train`` command line of one run (resuming when it has a checkpoint),
    stopped after ``steps`` optimiser steps or ``minutes`` of wall-clock (one of them)."""
    if (minutes is None) == (steps is None):
        raise ValueError("give exactly one of minutes= and steps=")
    folder = run_dir(out, style, change)
    last = folder / "checkpoints" / "last.ckpt"
    budget = (
        [f"trainer.max_steps={steps}"]
        if steps is not None
        else ["trainer.max_steps=1000000", f"+trainer.max_time={time_budget(minutes or 0)}"]
    )
    return [
        sys.executable,
        "-m",
        "stylenet.cli.train",
        *base,
        *CHANGES[change],
        *budget,
        f"resume={last if last.is_file() else 'null'}",
        f"hydra.run.dir={folder}",
        "hydra.output_subdir=null",
    ]


@dataclass(frozen=True)
class StepCost:
    """Seconds per training step of a recipe: full-size steps, and the downscaled steps of a
    coarse-to-fine schedule (``coarse_fraction`` of the steps)."""

    full: float
    coarse: float
    coarse_fraction: float = 0.0

    @property
    def mean(self) -> float:
        return self.coarse_fraction * self.coarse + (1 - self.coarse_fraction) * self.full

    def seconds(self, step: int, total: int) -> float:
        """Compute spent by the first ``step`` steps of a ``total``-step run."""
        coarse_steps = round(self.coarse_fraction * total)
        return min(step, coarse_steps) * self.coarse + max(0, step - coarse_steps) * self.full

    def steps_for(self, seconds: float) -> int:
        """How many steps of this recipe fit in ``seconds`` of compute (at least 1)."""
        return max(1, round(seconds / self.mean))


def recipe_config(overrides: Sequence[str]) -> Any:
    from hydra import compose, initialize_config_dir

    from stylenet.resources import config_dir

    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(config_name="train", overrides=list(overrides))


def step_timer(overrides: Sequence[str], *, coarse: bool) -> Any:
    """A closure running one training step of the recipe (random photos of its batch and
    crop size, downscaled when ``coarse``) under its resolved precision."""
    import tempfile

    import torch

    from stylenet.cli.train_module import build_module
    from stylenet.cli.train_options import training_precision, training_schedule
    from stylenet.lit.schedule import resize_photos

    cfg = recipe_config([*overrides, "heldout.root=null"])
    torch.manual_seed(0)
    module = build_module(cfg, Path(tempfile.mkdtemp(prefix="stylenet-cost-")))
    optimizer = torch.optim.Adam(module.net.parameters(), lr=float(cfg.lr))
    side = int(cfg.data.image_size)
    photos = torch.rand(int(cfg.data.batch_size), 3, side, side)
    if coarse:
        photos = resize_photos(photos, training_schedule(cfg).coarse_scale)
    bf16 = training_precision(cfg)[0].startswith("bf16")

    def step() -> None:
        optimizer.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            terms, _ = module.compute_loss(photos, None)
            total = terms.total.mean()
        total.backward()
        optimizer.step()

    return step


def measure_costs(
    changes: Sequence[str], base: Sequence[str], *, warmup: int = 1, repeats: int = 5
) -> dict[str, StepCost]:
    """Median step seconds of each change's recipe, measured round-robin so load drifts hit
    all alike; changes that train the same shapes share one measurement."""
    timers: dict[tuple[str, bool], Any] = {}
    keys: dict[str, tuple[str, float]] = {}
    for change in changes:
        cfg = recipe_config([*base, *CHANGES[change], "heldout.root=null"])
        shape = (
            f"{cfg.net}|{cfg.data.batch_size}|{cfg.data.image_size}|{cfg.trainer.precision}"
            f"|{cfg.painting.size}|{sorted(cfg.perceptual.style_layers)}|{cfg.schedule.coarse_scale}"
        )
        fraction = float(cfg.schedule.coarse_fraction)
        keys[change] = (shape, fraction)
        for coarse in (False, True) if fraction else (False,):
            if (shape, coarse) not in timers:
                timers[(shape, coarse)] = step_timer([*base, *CHANGES[change]], coarse=coarse)
    times: dict[tuple[str, bool], list[float]] = {key: [] for key in timers}
    for timer in timers.values():
        for _ in range(warmup):
            timer()
    for _ in range(repeats):
        for key, timer in timers.items():
            start = time.perf_counter()
            timer()
            times[key].append(time.perf_counter() - start)
    median = {key: statistics.median(values) for key, values in times.items()}
    return {
        change: StepCost(
            full=median[(shape, False)],
            coarse=median.get((shape, True), median[(shape, False)]),
            coarse_fraction=fraction,
        )
        for change, (shape, fraction) in keys.items()
    }


def write_costs(path: Path, costs: dict[str, StepCost], steps: dict[str, int]) -> None:
    from stylenet.data.atomic import atomic_path

    data = {change: {**cost.__dict__, "steps": steps[change]} for change, cost in costs.items()}
    with atomic_path(path) as temporary:
        Path(temporary).write_text(json.dumps(data, indent=1))


def read_costs(path: Path) -> dict[str, tuple[StepCost, int]]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return {
        change: (
            StepCost(float(v["full"]), float(v["coarse"]), float(v["coarse_fraction"])),
            int(v["steps"]),
        )
        for change, v in data.items()
    }


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


def read_curve(folder: Path, change: str, cost: tuple[StepCost, int] | None = None) -> Curve | None:
    """The run's ``heldout.csv`` as a :class:`Curve` (None when it has none yet): against its
    wall-clock minutes, or against equivalent minutes when ``cost`` (step cost, total steps)
    is given."""
    path = folder / "heldout.csv"
    if not path.is_file():
        return None
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    if not rows:
        return None
    if cost is None:
        points = [(float(r["minutes"]), float(r["loss"])) for r in rows]
    else:
        step_cost, total = cost
        points = [(step_cost.seconds(int(r["step"]), total) / 60, float(r["loss"])) for r in rows]
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
    costs = read_costs(folder / COSTS_NAME)
    curves = []
    if folder.is_dir():
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
            curve = read_curve(sub, sub.name, costs.get(sub.name))
            if curve is not None:
                curves.append(curve)
    if not curves:
        raise SystemExit(f"no runs with a heldout.csv under {folder}")
    curves.sort(key=lambda c: (c.change != BASELINE, c.change))
    # the untrained network's point (step 0, ~10x the rest) would flatten every curve
    chart = line_chart(
        {c.change: c.points[1:] if len(c.points) > 2 else c.points for c in curves},
        title=f"held-out content + style, {style}",
        x_label="equivalent training minutes" if costs else "training minutes",
        y_label="loss",
    )
    chart.save(folder / "curves.png")
    return table(style, verdicts(curves))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("changes", nargs="*", help=f"of {', '.join(CHANGES)} (baseline always)")
    parser.add_argument("--style", default="starry_night")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=float, help="equal wall-clock per run (idle machine)")
    budget.add_argument("--steps", type=int, help="equal compute: the baseline's step count")
    parser.add_argument("--out", default="outputs/experiments", help="where the runs go")
    parser.add_argument(
        "--base", default=None, help="base overrides (default: experiment=ship painting=<style>)"
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
        if args.minutes is None and args.steps is None:
            raise SystemExit("give a budget: --steps N (equal compute) or --minutes M")
        if args.minutes is not None and not args.minutes > 0:
            raise SystemExit(f"--minutes must be > 0, got {args.minutes}")
        if args.steps is not None and args.steps < 1:
            raise SystemExit(f"--steps must be >= 1, got {args.steps}")
        base = args.base.split() if args.base else base_recipe(args.style)
        changes = list(dict.fromkeys([BASELINE, *args.changes]))
        steps: dict[str, int] = {}
        if args.steps is not None:
            path = out / args.style / COSTS_NAME
            known = read_costs(path)
            missing = [c for c in changes if c not in known]
            costs = {c: known[c][0] for c in known}
            if missing:
                print(f"measuring step costs of {', '.join(missing)} ...", flush=True)
                measured = measure_costs(list(dict.fromkeys([BASELINE, *missing])), base)
                # costs measured later are scaled by the baseline measured with them, so every
                # change's step count rests on a ratio taken in one measurement
                scale = costs[BASELINE].full / measured[BASELINE].full if BASELINE in costs else 1
                for change in missing:
                    cost = measured[change]
                    costs[change] = StepCost(
                        cost.full * scale, cost.coarse * scale, cost.coarse_fraction
                    )
            budget_seconds = args.steps * costs[BASELINE].mean
            steps = {c: costs[c].steps_for(budget_seconds) for c in costs}
            steps[BASELINE] = args.steps
            write_costs(path, costs, steps)
            for change in changes:
                print(f"{change}: {costs[change].mean:.2f} s/step -> {steps[change]} steps")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        for change in changes:
            done = read_curve(run_dir(out, args.style, change), change)
            if change in steps and done is not None and done.steps >= steps[change]:
                print(f"{change}: already trained {done.steps} steps")
                continue
            command = train_command(
                change,
                style=args.style,
                out=out,
                base=base,
                minutes=args.minutes,
                steps=steps.get(change),
            )
            print(" ".join(command), flush=True)
            subprocess.run(command, check=True, cwd=REPO, env=env)
    print(report(out, args.style))


if __name__ == "__main__":
    main()
