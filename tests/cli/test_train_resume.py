"""Exact resume: from any checkpoint, across epoch boundaries, bit for bit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from PIL import Image

from stylenet.cli.config import config_dir
from stylenet.cli.train import TrainingInterrupted, run
from stylenet.errors import ConfigError
from stylenet.lit.style_module import StyleTransferModule
from stylenet.nn.checkpoint import read_checkpoint
from tests.conftest import REPO, synthetic_rgb

# 6 photos, 2 held out: 4 training photos at batch 2 are one pass (an epoch) every 2 steps.
STEPS = 7


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("resume_data")
    photos = root / "photos"
    photos.mkdir()
    for i in range(6):
        Image.fromarray(synthetic_rgb(40, 48, seed=i)).save(photos / f"p{i}.png")
    style = root / "painting.png"
    Image.fromarray(synthetic_rgb(48, 48, seed=9)).save(style)
    return photos, style


def overrides(data: tuple[Path, Path], *extra: str) -> list[str]:
    photos, style = data
    return [
        "experiment=smoke",
        "perceptual=random",
        f"data.root={photos}",
        "data.image_size=32",
        "data.batch_size=2",
        "data.num_val=2",
        "painting=wave",
        f"painting.image={style}",
        "painting.size=48",
        "progress=false",
        "checkpoint_every=1",
        "keep_checkpoints=-1",
        "trainer.val_check_interval=3",
        *extra,
    ]


def compose_cfg(args: list[str]):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3", job_name="train"):
        return compose(config_name="train", overrides=args)


def train(args: list[str], out: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr("stylenet.cli.train.run_dir", lambda: out)
    return run(compose_cfg(args), overrides=args)


def weights(path: Path) -> dict[str, torch.Tensor]:
    return read_checkpoint(path)["state_dict"]


def assert_same(a: Path, b: Path) -> None:
    first, second = weights(a), weights(b)
    assert first.keys() == second.keys()
    for key, value in first.items():
        assert torch.equal(value, second[key]), f"{key} differs: {a} vs {b}"


@pytest.fixture(scope="module")
def straight(data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("straight")
    with pytest.MonkeyPatch.context() as monkeypatch:
        train(overrides(data, f"trainer.max_steps={STEPS}"), out, monkeypatch)
    return out / "checkpoints"


@pytest.mark.slow
@pytest.mark.parametrize("step", [2, 3, 5])
def test_resume_from_a_step_checkpoint_is_bit_exact(
    data, straight: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: int
) -> None:
    out = tmp_path / "resumed"
    start = straight / f"step_{step:06d}.ckpt"
    train(overrides(data, f"trainer.max_steps={STEPS}", f"resume={start}"), out, monkeypatch)
    folder = out / "checkpoints"
    for later in range(step + 1, STEPS + 1):  # every later step checkpoint is written again
        assert_same(straight / f"step_{later:06d}.ckpt", folder / f"step_{later:06d}.ckpt")
    assert_same(straight / "last.ckpt", folder / "last.ckpt")


@pytest.mark.slow
def test_resume_from_last_of_a_shorter_run_is_bit_exact(
    data, straight: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = tmp_path / "first"
    train(overrides(data, "trainer.max_steps=3"), first, monkeypatch)
    out = tmp_path / "resumed"
    last = first / "checkpoints" / "last.ckpt"
    train(overrides(data, f"trainer.max_steps={STEPS}", f"resume={last}"), out, monkeypatch)
    assert_same(straight / "last.ckpt", out / "checkpoints" / "last.ckpt")
    assert (out / "checkpoints" / "step_000006.ckpt").is_file()


@pytest.mark.slow
def test_resume_after_ctrl_c_is_bit_exact(
    data, straight: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step_fn = StyleTransferModule.training_step

    def interrupt_at_step_4(self, batch, batch_idx):
        if self.global_step == 4:
            raise KeyboardInterrupt
        return step_fn(self, batch, batch_idx)

    first = tmp_path / "first"
    with monkeypatch.context() as patch:
        patch.setattr(StyleTransferModule, "training_step", interrupt_at_step_4)
        with pytest.raises(TrainingInterrupted) as raised:
            train(overrides(data, f"trainer.max_steps={STEPS}"), first, patch)
    saved = first / "checkpoints" / "interrupted.ckpt"
    assert raised.value.path == saved and saved.is_file()
    assert read_checkpoint(saved)["global_step"] == 4
    out = tmp_path / "resumed"
    train(overrides(data, f"trainer.max_steps={STEPS}", f"resume={saved}"), out, monkeypatch)
    assert_same(straight / "last.ckpt", out / "checkpoints" / "last.ckpt")


@pytest.mark.slow
def test_a_moved_run_resumed_in_place_overwrites_last_ckpt(
    data, straight: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run folder moved after training (its checkpoints name the old folder) resumes into
    itself: last.ckpt is the continued run, not a last-v1.ckpt beside a stale last.ckpt."""
    first = tmp_path / "first"
    train(overrides(data, "trainer.max_steps=3"), first, monkeypatch)
    moved = tmp_path / "moved"
    first.rename(moved)
    last = moved / "checkpoints" / "last.ckpt"
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")  # before the trainer's own filters, which come first
        train(overrides(data, f"trainer.max_steps={STEPS}", f"resume={last}"), moved, monkeypatch)
    lightning = [str(w.message) for w in seen if "checkpoint" in str(w.message).lower()]
    assert not lightning  # no "dirpath has changed", no "exists and is not empty"
    assert not list((moved / "checkpoints").glob("last-v*.ckpt"))
    assert read_checkpoint(last)["global_step"] == STEPS
    assert_same(straight / "last.ckpt", last)


def test_gradient_accumulation_is_rejected(data, tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(ConfigError, match="accumulate_grad_batches"):
        train(overrides(data, "+trainer.accumulate_grad_batches=2"), tmp_path, monkeypatch)


@pytest.mark.slow
def test_resume_alone_takes_the_config_from_the_checkpoint(
    data, straight: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = tmp_path / "first"
    train(overrides(data, "trainer.max_steps=3"), first, monkeypatch)
    out = tmp_path / "resumed"
    last = first / "checkpoints" / "last.ckpt"
    # no data.root, model, perceptual or style: the defaults would train another network
    train([f"resume={last}", f"trainer.max_steps={STEPS}"], out, monkeypatch)
    assert_same(straight / "last.ckpt", out / "checkpoints" / "last.ckpt")
    saved = read_checkpoint(out / "checkpoints" / "last.ckpt")["stylenet_train_config"]
    assert saved["trainer"]["max_steps"] == STEPS  # the command line won
    assert saved["data"]["image_size"] == 32 and saved["net"]["width"] == 0.125


def old_layout(saved: dict) -> dict:
    """``saved`` (today's stored training config) as runs stored it before the ``logger/``
    and ``callbacks/`` groups: ``logger: csv``, no ``callbacks``."""
    old = dict(saved)
    assert old["logger"] == {"csv": old["logger"]["csv"]}
    old["logger"] = "csv"
    del old["callbacks"]
    return old


@pytest.mark.slow
def test_a_checkpoint_with_the_old_config_layout_resumes_bit_exact(
    data, straight: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs stored ``logger: csv`` (now a group) and no callbacks; ``resume=`` upgrades them
    and continues exactly, with the same files and logs."""
    checkpoint = read_checkpoint(straight / "step_000003.ckpt")
    saved = checkpoint["stylenet_train_config"]
    checkpoint["stylenet_train_config"] = old_layout(saved)
    old = tmp_path / "old.ckpt"
    torch.save(checkpoint, old)
    out = tmp_path / "resumed"
    train([f"resume={old}", f"trainer.max_steps={STEPS}"], out, monkeypatch)
    assert_same(straight / "last.ckpt", out / "checkpoints" / "last.ckpt")
    for later in range(4, STEPS + 1):
        assert (out / "checkpoints" / f"step_{later:06d}.ckpt").is_file()
    assert (out / "logs" / "from_step_000003" / "metrics.csv").is_file()
    again = read_checkpoint(out / "checkpoints" / "last.ckpt")["stylenet_train_config"]
    assert again["net"] == saved["net"] and again["painting"] == saved["painting"]
    assert again["logger"] == saved["logger"] and again["callbacks"] == saved["callbacks"]


@pytest.mark.slow
def test_resume_at_max_steps_says_so_naming_the_file(
    data, straight: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    last = straight / "last.ckpt"
    with pytest.raises(ConfigError, match="max_steps") as raised:
        train([f"resume={last}"], tmp_path / "again", monkeypatch)
    assert f"at step {STEPS}" in str(raised.value) and str(last) in str(raised.value)


def test_changes_relative_to_the_defaults_patch_the_saved_config() -> None:
    from stylenet.cli.train_resume import apply_patch, config_patch, explicit_keys

    default = {"a": 1, "group": {"x": 1, "y": 2}, "keep": 5}
    given = {"a": 1, "group": {"x": 1, "z": 3}, "keep": 5}  # a group override: y went, z came
    saved = {"a": 7, "group": {"x": 9, "y": 8}, "keep": 6}
    apply_patch(saved, config_patch(given, default), given)
    assert saved == {"a": 7, "group": {"x": 9, "z": 3}, "keep": 6}
    # a key named on the command line wins even where it equals the default
    assert explicit_keys(["group.x=1", "a=1", "group=other", "hydra.run.dir=d"], given) == [
        "group.x",
        "a",
        "group",
    ]


def cli(*args: str, cwd: Path) -> subprocess.Popen:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "stylenet.cli.train", *args]
    return subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.slow
def test_ctrl_c_exits_130_naming_the_checkpoint_then_resume_continues_in_place(
    data, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    proc = cli(*overrides(data, "trainer.max_steps=100000", f"hydra.run.dir={out}"), cwd=tmp_path)
    deadline = time.monotonic() + 120
    while not (out / "checkpoints" / "step_000002.ckpt").is_file():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1]
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    saved = out / "checkpoints" / "interrupted.ckpt"
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == f"stylenet: interrupted, saved {saved}"
    step = read_checkpoint(saved)["global_step"]
    # resume=CKPT alone (plus a step budget): the run's own config, in the run's own folder
    proc = cli(f"resume={saved}", f"trainer.max_steps={step + 1}", cwd=tmp_path)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert (
        stdout.strip().splitlines()[-1] == f"last checkpoint: {out / 'checkpoints' / 'last.ckpt'}"
    )
    assert read_checkpoint(out / "checkpoints" / "last.ckpt")["global_step"] == step + 1
    assert list((out / ".hydra").glob("resumed_*/config.yaml"))


@pytest.mark.slow
def test_a_model_named_on_the_command_line_wins_even_as_the_default(
    data, straight: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylenet.errors import StylenetError

    last = straight / "last.ckpt"  # trained with net=tiny; johnson_small is the default
    with pytest.raises(StylenetError, match="model"):
        train([f"resume={last}", "net=johnson_small", "trainer.max_steps=9"], tmp_path, monkeypatch)


SCHEDULED = ["schedule.lr=cosine", "schedule.coarse_fraction=0.5", "data.image_size=64"]


@pytest.mark.slow
def test_resume_with_a_cosine_and_coarse_to_fine_schedule_is_bit_exact(
    data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    straight = tmp_path / "straight"
    train(overrides(data, f"trainer.max_steps={STEPS}", *SCHEDULED), straight, monkeypatch)
    resumed = tmp_path / "resumed"
    start = straight / "checkpoints" / "step_000003.ckpt"  # in the coarse half
    train(
        overrides(data, f"trainer.max_steps={STEPS}", *SCHEDULED, f"resume={start}"),
        resumed,
        monkeypatch,
    )
    assert_same(straight / "checkpoints" / "last.ckpt", resumed / "checkpoints" / "last.ckpt")
    plain = tmp_path / "plain"
    train(overrides(data, f"trainer.max_steps={STEPS}", "data.image_size=64"), plain, monkeypatch)
    with pytest.raises(AssertionError, match="differs"):  # the schedule changed the training
        assert_same(straight / "checkpoints" / "last.ckpt", plain / "checkpoints" / "last.ckpt")


def test_a_coarse_scale_below_the_smallest_side_is_a_config_error(
    data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = overrides(data, "schedule.coarse_fraction=0.5", "schedule.coarse_scale=0.5")
    with pytest.raises(ConfigError, match=r"schedule\.coarse_scale 0\.5 makes 16 px photos"):
        train(args, tmp_path, monkeypatch)
