"""``trainer=ddp_cpu``: gloo DDP on CPU processes and on two loopback nodes, against one process.

Each run is a few steps of the tiny network at 32 px; every process has a timeout, so a hang
fails the test instead of stalling CI.
"""

from __future__ import annotations

import csv
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from PIL import Image

from stylenet.cli.config import config_dir
from stylenet.cli.train import PROCESS_OBSERVER_LOGGER, report_lost_processes, run
from stylenet.nn.checkpoint import load_transformer, read_checkpoint
from tests.conftest import REPO, synthetic_rgb

TIMEOUT = 240  # seconds for any one launch (they take a few seconds on an idle machine)
STEPS = 3


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("ddp_data")
    photos, styles = root / "photos", root / "styles"
    photos.mkdir()
    styles.mkdir()
    for i in range(6):
        Image.fromarray(synthetic_rgb(40, 48, seed=i)).save(photos / f"p{i}.png")
    heldout = root / "heldout"  # 3 photos: two processes score 2 and 1 of them
    heldout.mkdir()
    for i in range(3):
        Image.fromarray(synthetic_rgb(36, 44, seed=40 + i)).save(heldout / f"h{i}.png")
    for seed, name in enumerate(("wave", "udnie", "the_scream")):
        Image.fromarray(synthetic_rgb(48, 48, seed=20 + seed)).save(styles / f"{name}.jpg")
    return photos, styles


def overrides(data: tuple[Path, Path], *extra: str) -> list[str]:
    photos, styles = data
    return [
        "experiment=smoke",
        "perceptual=random",
        f"data.root={photos}",
        f"paths.styles={styles}",
        "styles=[wave,udnie]",
        "data.image_size=32",
        "data.num_val=2",
        "painting.size=48",
        "progress=false",
        "checkpoint_every=1",
        "keep_checkpoints=-1",
        "trainer.log_every_n_steps=1",
        f"trainer.max_steps={STEPS}",
        *extra,
    ]


def heldout(data: tuple[Path, Path]) -> list[str]:
    root = data[0].parent / "heldout"
    return [f"heldout.root={root}", "heldout.every=1", "heldout.size=40"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch(args: list[str], cwd: Path, **env: str) -> subprocess.Popen:
    environment = dict(os.environ, **env)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    # one thread per process, as Lightning picks for 2 processes on 2 cores: runs with other
    # process layouts then compute in the same order (bit-equal results)
    environment["OMP_NUM_THREADS"] = "1"
    environment.setdefault("MASTER_ADDR", "127.0.0.1")
    environment.setdefault("MASTER_PORT", str(free_port()))
    return subprocess.Popen(
        [sys.executable, "-m", "stylenet.cli.train", *args],
        cwd=cwd,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen) -> str:
    try:
        _, stderr = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, stderr = proc.communicate()
        pytest.fail(f"training did not finish within {TIMEOUT} s:\n{stderr[-3000:]}")
    assert proc.returncode == 0, stderr[-3000:]
    return stderr


def losses(run_dir: Path) -> dict[int, float]:
    with (run_dir / "logs" / "metrics.csv").open() as file:
        rows = [row for row in csv.DictReader(file) if row.get("train/loss")]
    return {int(row["step"]): float(row["train/loss"]) for row in rows}


def net_weights(path: Path) -> dict[str, torch.Tensor]:
    state = read_checkpoint(path)["state_dict"]
    return {key: value for key, value in state.items() if key.startswith("net.")}


@pytest.fixture(scope="module")
def ddp_run(data, tmp_path_factory) -> Path:
    """Two gloo processes, one photo each per step (global batch 2)."""
    out = tmp_path_factory.mktemp("ddp") / "run"
    args = overrides(
        data, "trainer=ddp_cpu", "trainer.devices=2", "data.batch_size=1", *heldout(data)
    )
    finish(launch([*args, f"hydra.run.dir={out}"], cwd=out.parent))
    return out


@pytest.fixture(scope="module")
def single_run(data, tmp_path_factory) -> Path:
    """One process with the same global batch (2)."""
    out = tmp_path_factory.mktemp("single") / "run"
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3", job_name="train"):
        cfg = compose(
            config_name="train", overrides=overrides(data, "data.batch_size=2", *heldout(data))
        )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("stylenet.cli.train.run_dir", lambda: out)
        run(cfg)
    return out


@pytest.mark.slow
def test_two_processes_train_like_one_with_the_same_global_batch(
    ddp_run: Path, single_run: Path
) -> None:
    ddp, single = losses(ddp_run), losses(single_run)
    assert sorted(ddp) == sorted(single) and len(ddp) == STEPS
    for step, loss in single.items():  # the global batch's mean loss, step by step
        assert ddp[step] == pytest.approx(loss, rel=1e-4), step
    # first step: the same gradients (Adam's first moments are 0.1 × the gradient)
    moments = [
        [
            state["exp_avg"]
            for state in read_checkpoint(r / "checkpoints" / "step_000001.ckpt")[
                "optimizer_states"
            ][0]["state"].values()
        ]
        for r in (ddp_run, single_run)
    ]
    for a, b in zip(*moments, strict=True):
        assert torch.allclose(a, b, rtol=1e-3, atol=1e-7)
    # weights: Adam's first steps move every weight by about ±lr, so a gradient that is zero up to
    # rounding (a conv bias before instance norm) may step either way; all the rest agree
    a, b = (
        net_weights(ddp_run / "checkpoints" / "last.ckpt"),
        net_weights(single_run / "checkpoints" / "last.ckpt"),
    )
    differ = sum(int(((a[k] - b[k]).abs() > 1e-4).sum()) for k in a)
    assert differ < 0.02 * sum(v.numel() for v in a.values())


@pytest.mark.slow
def test_the_processes_share_the_heldout_evaluation(ddp_run: Path, single_run: Path) -> None:
    """Each process scores its share of the held-out photos at the same steps (none waits
    alone in a collective) and the run's curve is that of all photos."""

    def curve(run_dir: Path) -> list[dict[str, float]]:
        with (run_dir / "heldout.csv").open() as file:
            return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(file)]

    ddp, single = curve(ddp_run), curve(single_run)
    assert [p["step"] for p in ddp] == [p["step"] for p in single] == list(range(STEPS + 1))
    assert set(ddp[0]) == set(single[0]) >= {"content", "style", "style/wave", "style/udnie"}
    for key in ("content", "style", "loss", "style/wave", "style/udnie"):
        assert ddp[0][key] == pytest.approx(single[0][key], rel=1e-5), key  # equal weights
        for a, b in zip(ddp, single, strict=True):  # nearly equal weights (see above)
            assert a[key] == pytest.approx(b[key], rel=1e-2), (a["step"], key)
    assert len(list(ddp_run.rglob("heldout.csv"))) == 1


@pytest.mark.slow
def test_checkpoints_are_written_once(ddp_run: Path) -> None:
    names = sorted(p.relative_to(ddp_run).as_posix() for p in ddp_run.rglob("*.ckpt"))
    expected = [f"checkpoints/step_{s:06d}.ckpt" for s in range(1, STEPS + 1)]
    assert names == sorted(["checkpoints/last.ckpt", *expected])
    assert sorted(p.name for p in (ddp_run / "val").iterdir()) == ["step_000002.jpg"]


@pytest.mark.slow
def test_two_loopback_nodes_resume_a_ddp_run_exactly(data, ddp_run: Path, tmp_path: Path) -> None:
    """Node ranks 0 and 1 started by hand as a cluster launcher would, resuming at step 1."""
    start = ddp_run / "checkpoints" / "step_000001.ckpt"
    port = str(free_port())
    procs = [
        launch(
            [
                *overrides(data, "trainer=ddp_cpu", "trainer.devices=1", "data.batch_size=1"),
                "trainer.num_nodes=2",
                f"resume={start}",
                f"hydra.run.dir={tmp_path / f'node{node}'}",
            ],
            cwd=tmp_path,
            NODE_RANK=str(node),
            MASTER_PORT=port,
        )
        for node in (0, 1)
    ]
    for proc in procs:
        finish(proc)
    assert not list((tmp_path / "node1").rglob("*.ckpt"))  # only global rank 0 writes
    for step in (2, 3):
        a = net_weights(ddp_run / "checkpoints" / f"step_{step:06d}.ckpt")
        b = net_weights(tmp_path / "node0" / "checkpoints" / f"step_{step:06d}.ckpt")
        for key, value in a.items():
            assert torch.equal(value, b[key]), (step, key)


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow
def test_a_killed_rank_ends_the_job_with_an_error_and_it_resumes(data, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = overrides(data, "trainer=ddp_cpu", "trainer.devices=2", "data.batch_size=1")
    proc = launch([*args, "trainer.max_steps=100000", f"hydra.run.dir={out}"], cwd=tmp_path)
    deadline = time.monotonic() + TIMEOUT
    while not (out / "checkpoints" / "step_000002.ckpt").is_file():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1][-3000:]
        time.sleep(0.1)
    rank1 = [pid for pid in children(proc.pid) if "stylenet.cli.train" in _cmdline(pid)]
    assert len(rank1) == 1
    killed = time.monotonic()
    os.kill(rank1[0], signal.SIGKILL)
    try:
        _, stderr = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the job hung after one of its processes was killed")
    assert proc.returncode != 0
    assert time.monotonic() - killed < 60
    last = out / "checkpoints" / "last.ckpt"
    assert "stylenet: error: a training process stopped or lost contact" in stderr, stderr[-3000:]
    step = read_checkpoint(last)["global_step"]
    finish(launch([f"resume={last}", f"trainer.max_steps={step + 1}"], cwd=tmp_path))
    assert read_checkpoint(last)["global_step"] == step + 1  # continued in its own folder


def test_the_lost_process_line_is_printed_once_before_the_observer_acts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    last = tmp_path / "last.ckpt"
    last.write_bytes(b"")
    observer = logging.getLogger(PROCESS_OBSERVER_LOGGER)
    line = (
        "[rank: 1] Child process with PID 4242 terminated with code -9. "
        "Forcefully terminating all other processes to avoid zombies"
    )
    with report_lost_processes(last) as report:
        observer.info("some other launcher message")
        assert capsys.readouterr().err == ""
        observer.info(line)
        observer.info(line)
        assert not report.claim()  # the failed collective that follows says nothing more
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "stylenet: error: a training process stopped or lost contact (Child process with PID "
        f"4242 terminated with code -9); the job stops; resume with resume={last}"
    ]
    observer.info(line)  # detached after training
    assert capsys.readouterr().err == ""


OBSERVED_JOB = """
import subprocess, sys, time
from pathlib import Path
from lightning.fabric.strategies.launchers.subprocess_script import _launch_process_observer
from stylenet.cli.train import report_lost_processes

with report_lost_processes(Path(sys.argv[1])):
    child = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    _launch_process_observer([child])
    time.sleep(60)  # the observer kills this process within its 5 s period
"""


@pytest.mark.slow
def test_lightnings_observer_prints_the_line_before_it_kills_the_job(tmp_path: Path) -> None:
    """Lightning's own observer (not a stand-in): it logs on the watched logger, then kills."""
    proc = subprocess.run(
        [sys.executable, "-c", OBSERVED_JOB, str(tmp_path / "last.ckpt")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert proc.returncode == -signal.SIGKILL
    assert (
        "stylenet: error: a training process stopped or lost contact (Child process with PID "
        in proc.stderr
    ), proc.stderr
    assert "terminated with code 3); the job stops; no checkpoint was written yet" in proc.stderr


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.mark.slow
def test_add_style_under_ddp(data, ddp_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "add"
    base = ddp_run / "checkpoints" / "last.ckpt"
    args = overrides(data, "trainer=ddp_cpu", "trainer.devices=2", "data.batch_size=1")
    args = [a for a in args if not a.startswith("styles=")]
    finish(
        launch(
            [
                *args,
                "experiment=add_style",
                f"base={base}",
                "painting=the_scream",
                "trainer.max_steps=2",
                f"hydra.run.dir={out}",
            ],
            cwd=tmp_path,
        )
    )
    net, _ = load_transformer(base)
    extended, added = load_transformer(out / "checkpoints" / "last.ckpt")
    assert added.styles == ["wave", "udnie", "the_scream"]
    image = torch.rand(1, 3, 32, 32) * 255
    with torch.no_grad():
        for index in range(2):  # the trained styles stay bit for bit
            assert torch.equal(
                net(image, torch.eye(2)[index][None]), extended(image, torch.eye(3)[index][None])
            )
