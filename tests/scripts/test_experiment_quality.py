from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from PIL import Image

from stylenet.cli.config import config_dir
from tests.conftest import load_script, synthetic_rgb

experiment = load_script("experiment_quality")


def compose_train(overrides: list[str]):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(config_name="train", overrides=overrides)


def smoke_base(photos: Path, tmp_path: Path, *, image_size: int) -> str:
    """Base overrides of a tiny experiment: smoke recipe, random VGG, one held-out photo."""
    style = tmp_path / "painting.png"
    Image.fromarray(synthetic_rgb(64, 64, seed=9)).save(style)
    heldout = tmp_path / "heldout"
    heldout.mkdir()
    Image.fromarray(synthetic_rgb(40, 48, seed=3)).save(heldout / "h.png")
    return (
        f"experiment=smoke perceptual=random data.root={photos} data.image_size={image_size} "
        f"painting=wave painting.image={style} painting.size=64 progress=false "
        f"heldout.root={heldout} heldout.every=2 heldout.size=40"
    )


@pytest.mark.slow
def test_every_named_change_composes_and_changes_the_recipe() -> None:
    base = compose_train(experiment.base_recipe("wave"))
    for name, overrides in experiment.CHANGES.items():
        cfg = compose_train([*experiment.base_recipe("wave"), *overrides])
        assert (cfg == base) == (name == experiment.BASELINE), name


def test_time_budget_is_lightning_max_time() -> None:
    assert experiment.time_budget(60) == "00:01:00:00"
    assert experiment.time_budget(0.05) == "00:00:00:03"
    assert experiment.time_budget(0.001) == "00:00:00:01"
    assert experiment.time_budget(1500) == "01:01:00:00"


def test_changes_are_judged_against_the_baseline_at_equal_minutes() -> None:
    baseline = experiment.Curve("baseline", [(0, 10.0), (10, 6.0), (20, 5.0)], 400)
    faster = experiment.Curve("lr_2e-3", [(0, 10.0), (15, 5.0)], 300)
    longer = experiment.Curve("batch_2", [(0, 10.0), (25, 4.0)], 900)
    assert baseline.loss_at(15) == pytest.approx(5.5)
    assert baseline.loss_at(25) is None
    rows = {v.change: v for v in experiment.verdicts([baseline, faster, longer])}
    assert rows["baseline"].ratio == pytest.approx(1.0)
    assert rows["lr_2e-3"].ratio == pytest.approx(5.0 / 5.5)
    assert rows["batch_2"].baseline_loss == 5.0  # past the baseline's end: its last point
    text = experiment.table("wave", list(rows.values()))
    assert "| wave | lr_2e-3 | `lr=2e-3` | 15.0 | 300 | 5 | -9.1% |" in text


@pytest.mark.slow
def test_a_smoke_experiment_runs_both_recipes_and_reports(
    image_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = smoke_base(image_folder, tmp_path, image_size=40)
    out = tmp_path / "experiments"
    experiment.main(
        ["lr_2e-3", "--style", "wave", "--minutes", "0.05", "--out", str(out), "--base", base]
    )
    for change in ("baseline", "lr_2e-3"):
        curve = experiment.read_curve(out / "wave" / change, change)
        assert curve is not None and curve.steps >= 1 and len(curve.points) >= 2
        assert not (out / "wave" / change / ".hydra").exists()
    printed = capsys.readouterr().out
    assert "| wave | baseline |" in printed and "| wave | lr_2e-3 |" in printed
    with Image.open(out / "wave" / "curves.png") as chart:
        assert chart.format == "PNG"


def test_unknown_changes_are_refused() -> None:
    with pytest.raises(SystemExit, match="unknown change"):
        experiment.main(["warp_speed"])


def test_step_costs_turn_the_baseline_budget_into_steps() -> None:
    plain = experiment.StepCost(full=2.0, coarse=2.0)
    coarse = experiment.StepCost(full=2.0, coarse=0.5, coarse_fraction=0.75)
    assert coarse.mean == pytest.approx(0.875)
    assert plain.steps_for(600.0) == 300
    assert coarse.steps_for(600.0) == 686
    # the first 3 of 4 steps are the cheap ones
    assert coarse.seconds(3, 4) == pytest.approx(1.5)
    assert coarse.seconds(4, 4) == pytest.approx(3.5)
    assert plain.steps_for(0.1) == 1


@pytest.mark.slow
def test_an_equal_compute_experiment_scales_steps_by_measured_cost(
    image_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = smoke_base(image_folder, tmp_path, image_size=64)
    out = tmp_path / "experiments"
    args = ["coarse_50", "--style", "wave", "--steps", "3", "--out", str(out), "--base", base]
    experiment.main(args)
    costs = experiment.read_costs(out / "wave" / experiment.COSTS_NAME)
    base_cost, base_steps = costs["baseline"]
    coarse_cost, coarse_steps = costs["coarse_50"]
    assert base_steps == 3
    assert coarse_cost.coarse_fraction == 0.5 and coarse_cost.coarse < coarse_cost.full
    assert coarse_steps == coarse_cost.steps_for(3 * base_cost.mean) >= 3
    assert experiment.read_curve(out / "wave" / "coarse_50", "coarse_50").steps == coarse_steps
    capsys.readouterr()
    experiment.main(args)  # a second call trains nothing more and reports again
    printed = capsys.readouterr().out
    assert "baseline: already trained 3 steps" in printed
    assert "| wave | coarse_50 |" in printed


def test_a_budget_is_required() -> None:
    with pytest.raises(SystemExit, match="give a budget"):
        experiment.main(["lr_2e-3"])
