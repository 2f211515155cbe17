from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from tests.helpers.scripts import load_script

train_shipped = load_script("train_shipped")


@pytest.mark.parametrize(
    ("name", "budget"),
    [
        ("starry_night", 4800),
        ("multi_style", 19200),
        ("starry_night_fast", 4800),
        ("starry_night_lean", 3600),
        ("starry_night_lean_warm", 800),
        ("udnie_lean", 800),
        ("udnie_lean_warm", 1600),
        ("woman_with_hat", 240),
    ],
)
def test_recipes_compose_with_their_step_budgets(name: str, budget: int) -> None:
    assert train_shipped.step_budget(name) == budget


def test_the_fast_recipe_trains_the_real_time_network_on_its_style() -> None:
    from hydra import compose, initialize_config_dir

    from stylenet.cli.config import config_dir

    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose(config_name="train", overrides=train_shipped.recipe("starry_night_fast"))
    assert cfg.painting.name == "starry_night"
    assert (cfg.net.width, cfg.net.num_res_blocks, cfg.net.outer_kernel) == (0.25, 3, 5)


def test_a_new_style_starts_from_the_backbone_without_its_own_norms() -> None:
    from hydra import compose, initialize_config_dir

    from stylenet.cli.config import config_dir

    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose(config_name="train", overrides=train_shipped.recipe("woman_with_hat"))
    assert cfg.painting.name == "woman_with_hat"
    assert cfg.base == "multi_style"
    assert list(cfg.new_style.exclude) == ["woman_with_hat"]
    assert train_shipped.MODELS.index("multi_style") < train_shipped.MODELS.index("woman_with_hat")


def test_a_distilled_student_ships_under_its_teachers_name() -> None:
    from hydra import compose, initialize_config_dir

    from stylenet.cli.config import config_dir

    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose(config_name="train", overrides=train_shipped.recipe("starry_night_lean"))
    assert cfg.painting.name == "starry_night" and cfg.net.width == 0.375
    assert cfg.distill.teacher == "training/starry_night/checkpoints/last.ckpt"
    assert train_shipped.MODELS.index("starry_night_lean") > train_shipped.MODELS.index(
        "starry_night"
    )  # the teacher trains first


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


def tracked_files() -> list[str]:
    """``git ls-files`` of the checkout (skips when this is not a git checkout)."""
    import shutil
    import subprocess

    repo = Path(train_shipped.REPO)
    if shutil.which("git") is None or not (repo / ".git").exists():
        pytest.skip("not a git checkout")
    proc = subprocess.run(
        ["git", "ls-files"], cwd=repo, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        pytest.skip(f"git ls-files failed: {proc.stderr.strip()}")
    return proc.stdout.splitlines()


def test_training_state_in_the_repository_stays_lean() -> None:
    files = tracked_files()
    hydra = [f for f in files if ".hydra" in Path(f).parts]
    assert not hydra, f"tracked .hydra/ folders (absolute machine paths): {hydra[:5]}"
    checkpoints = [f for f in files if f.endswith(".ckpt")]
    not_last = [
        f
        for f in checkpoints
        if not (f.startswith("training/") and f.endswith("/checkpoints/last.ckpt"))
        or len(Path(f).parts) != 4
    ]
    assert not not_last, (
        f"tracked checkpoints other than training/<name>/checkpoints/last.ckpt: {not_last}"
    )
    training = [f for f in files if f.startswith("training/")]
    grids = [f for f in training if "/val/" in f]
    assert not grids, f"validation grids are tracked: {grids[:5]}"
    logs = [f for f in training if f.endswith(".log")]
    assert not logs, f"job logs (absolute machine paths) are tracked: {logs[:5]}"


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        ("training/wave/.hydra/config.yaml", True),
        ("training/wave/export/.hydra/hydra.yaml", True),
        ("training/wave/train.log", True),
        ("training/wave/checkpoints/step_000100.ckpt", True),
        ("training/wave/checkpoints/interrupted.ckpt", True),
        ("training/wave/val/step_000250.png", True),
        ("training/wave/checkpoints/last.ckpt", False),
        ("training/wave/val/step_000250.jpg", True),
        ("training/wave/quality_curve.png", True),
        ("training/wave/heldout.csv", False),
    ],
)
def test_gitignore_keeps_training_state_lean(path: str, ignored: bool) -> None:
    import subprocess

    tracked_files()  # skips outside a git checkout
    proc = subprocess.run(
        ["git", "check-ignore", "-q", "--no-index", path], cwd=train_shipped.REPO, check=False
    )
    assert (proc.returncode == 0) == ignored


def test_the_runs_write_no_hydra_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    commands = []
    monkeypatch.setattr(train_shipped, "REPO", tmp_path)
    monkeypatch.setattr(train_shipped, "run_command", lambda cmd: commands.append(cmd) or 0)
    train_shipped.train("wave")
    train_shipped.export("wave")
    assert all(train_shipped.NO_HYDRA_FOLDER in command for command in commands)
    assert len(commands) == 2


@pytest.mark.slow
@pytest.mark.parametrize("subdir", [None, train_shipped.NO_HYDRA_FOLDER])
def test_hydra_honours_the_override(tmp_path: Path, subdir: str | None) -> None:
    """The override keeps Hydra from writing .hydra/ (without it, Hydra writes one)."""
    import os
    import subprocess

    env = dict(os.environ, PYTHONPATH=str(train_shipped.REPO))
    run = tmp_path / "run"
    command = [sys.executable, "-m", "stylenet.cli.export", "model=/no/such.ckpt"]
    command += [f"hydra.run.dir={run}", *([subdir] if subdir else [])]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert (run / ".hydra").is_dir() == (subdir is None)


def saved_run(root: Path, name: str, config: dict, step: int) -> Path:
    folder = root / "training" / name / "checkpoints"
    folder.mkdir(parents=True)
    torch.save(
        {"global_step": step, "state_dict": {}, "stylenet_train_config": config},
        folder / "last.ckpt",
    )
    return folder.parent


def test_a_run_under_todays_recipe_has_no_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = train_shipped.recipe_config("wave")
    monkeypatch.setattr(train_shipped, "REPO", tmp_path)
    assert train_shipped.recipe_changes("wave") == []  # no run yet
    config["data"]["root"] = "/another/machine/photos"  # where the photos are is no recipe
    saved_run(tmp_path, "wave", config, 100)
    assert train_shipped.recipe_changes("wave") == []


def test_a_changed_schedule_and_its_step_budget_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = train_shipped.recipe_config("wave")
    config["schedule"]["coarse_fraction"] = 0.5
    config["trainer"]["max_steps"] = 123
    monkeypatch.setattr(train_shipped, "REPO", tmp_path)
    saved_run(tmp_path, "wave", config, 100)
    changes = train_shipped.recipe_changes("wave")
    budget = train_shipped.step_budget("wave")
    assert "trainer.max_steps: 123 -> " + str(budget) in changes
    assert any(change.startswith("schedule.coarse_fraction: 0.5 -> ") for change in changes)


def test_a_run_from_before_the_spike_penalty_matches_a_recipe_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(train_shipped, "REPO", tmp_path)
    for name, changed in (("wave", False), ("multi_style", True)):
        config = train_shipped.recipe_config(name)
        del config["spike_penalty"]  # stored before the option existed: trained without it
        saved_run(tmp_path, name, config, 100)
        changes = train_shipped.recipe_changes(name)
        assert changes == (["spike_penalty.weight: 0.0 -> 1.0"] if changed else [])


@pytest.mark.slow
def test_an_older_run_is_kept_until_restart_moves_it_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = train_shipped.recipe_config("wave")
    config["lr"] = 5.0e-4
    monkeypatch.setattr(train_shipped, "REPO", tmp_path)
    folder = saved_run(tmp_path, "wave", config, 2000)
    commands = []
    monkeypatch.setattr(train_shipped, "run_command", lambda cmd: commands.append(cmd) or 0)
    monkeypatch.setattr(sys, "argv", ["train_shipped.py", "wave"])
    with pytest.raises(SystemExit, match=r"lr: 0.0005 -> 0.001.*--restart"):
        train_shipped.main()
    assert folder.is_dir() and not commands  # nothing trained, exported or moved
    monkeypatch.setattr(sys, "argv", ["train_shipped.py", "--restart", "wave"])
    train_shipped.main()
    aside = tmp_path / "training" / "wave.previous" / "checkpoints" / "last.ckpt"
    assert aside.is_file() and not folder.exists()
    assert commands and "resume=null" in commands[0]  # trained anew


CHILD = """
import signal, sys, time
from pathlib import Path
marker = Path(sys.argv[1])
def stop(signum, frame):
    marker.write_text("terminated")
    sys.exit(143)
signal.signal(signal.SIGTERM, stop)
marker.write_text("ready")
time.sleep(60)
"""


def test_sigterm_goes_on_to_the_training_process(tmp_path: Path) -> None:
    """``kill <script pid>`` stops stylenet-train, which saves and exits; the script waits."""
    import os
    import signal
    import threading
    import time

    marker = tmp_path / "marker"
    previous = signal.getsignal(signal.SIGTERM)

    def send_when_ready() -> None:
        deadline = time.monotonic() + 30
        while not marker.is_file() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    sender = threading.Thread(target=send_when_ready)
    sender.start()
    code = train_shipped.run_command([sys.executable, "-c", CHILD, str(marker)])
    sender.join()
    assert code == 143
    assert marker.read_text() == "terminated"
    assert signal.getsignal(signal.SIGTERM) == previous  # this process's handler is back


def test_a_stopped_run_says_where_it_stands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(train_shipped, "REPO", tmp_path)
    monkeypatch.setattr(train_shipped, "run_command", lambda command: 143)
    folder = tmp_path / "training" / "wave" / "checkpoints"
    folder.mkdir(parents=True)
    torch.save({"global_step": 700, "state_dict": {}}, folder / "last.ckpt")
    with pytest.raises(
        SystemExit, match=r"training/wave stopped at step 700 of \d+ .*exit code 143"
    ):
        train_shipped.train("wave")


def finished_run(root: Path, name: str, heldout: float) -> None:
    folder = root / "training" / name
    (folder / "checkpoints").mkdir(parents=True, exist_ok=True)
    torch.save({"global_step": 10, "state_dict": {}}, folder / "checkpoints" / "last.ckpt")
    (folder / "heldout.csv").write_text(f"step,minutes,content,style,loss\n10,1,1,1,{heldout}\n")


def test_a_student_ships_only_within_two_percent_of_its_teacher(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(train_shipped, "REPO", tmp_path)
    monkeypatch.setattr(train_shipped, "step_budget", lambda name: 10)
    finished_run(tmp_path, "starry_night", 100.0)
    finished_run(tmp_path, "starry_night_lean", 101.5)
    assert train_shipped.shipped_student("starry_night") == "starry_night_lean"
    finished_run(tmp_path, "starry_night_lean", 108.5)
    assert train_shipped.shipped_student("starry_night") is None
    assert "starry_night_lean is not shipped: held-out loss 108.5" in capsys.readouterr().out
    # of two qualifying students, the lower held-out loss ships
    finished_run(tmp_path, "starry_night_lean", 101.5)
    finished_run(tmp_path, "starry_night_lean_warm", 100.5)
    assert train_shipped.shipped_student("starry_night") == "starry_night_lean_warm"
    monkeypatch.setattr(train_shipped, "step_budget", lambda name: 20)  # none finished
    assert train_shipped.shipped_student("starry_night") is None


def test_a_warm_student_starts_from_the_earlier_one() -> None:
    from hydra import compose, initialize_config_dir

    from stylenet.cli.config import config_dir

    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose(config_name="train", overrides=train_shipped.recipe("starry_night_lean_warm"))
    assert cfg.distill.init == "training/starry_night_lean/checkpoints/last.ckpt"
    assert cfg.net.width == 0.375 and cfg.distill.teacher_share == 0.0
    assert cfg.schedule.coarse_fraction == 0.0
    order = train_shipped.MODELS
    assert order.index("starry_night_lean") < order.index("starry_night_lean_warm")


def test_every_other_style_distils_from_starry_nights_student() -> None:
    from hydra import compose, initialize_config_dir

    from stylenet.cli.config import config_dir

    styles = {"the_scream", "wave", "composition_vii", "udnie", "shipwreck", "woman_with_hat"}
    assert set(train_shipped.RESTYLED.values()) == styles
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose(config_name="train", overrides=train_shipped.recipe("udnie_lean"))
        refined = compose(config_name="train", overrides=train_shipped.recipe("udnie_lean_warm"))
    assert cfg.painting.name == "udnie" and cfg.lr == 1.0e-3
    assert cfg.distill.teacher == "training/udnie/checkpoints/last.ckpt"
    assert cfg.distill.init == "training/starry_night_lean_warm/checkpoints/last.ckpt"
    assert refined.distill.init == "training/udnie_lean/checkpoints/last.ckpt"
    assert refined.lr == 1.0e-3 and refined.distill.teacher == cfg.distill.teacher
    order = train_shipped.MODELS
    assert order.index("starry_night_lean_warm") < order.index("udnie_lean")
    assert order.index("udnie") < order.index("udnie_lean") < order.index("udnie_lean_warm")
