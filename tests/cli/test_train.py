from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from stylenet.cli.config import config_dir
from stylenet.cli.help import command_help
from stylenet.errors import ConfigError, ImageError
from stylenet.nn.checkpoint import load_transformer, read_checkpoint
from tests.helpers.cli import cli_error_line
from tests.helpers.images import synthetic_rgb
from tests.helpers.training import smoke_config, train, train_config


@pytest.fixture
def style_image(tmp_path: Path) -> Path:
    path = tmp_path / "painting.png"
    Image.fromarray(synthetic_rgb(64, 64, seed=9)).save(path)
    return path


def config(photos: Path, style: Path, out: Path, *overrides: str):
    return smoke_config(photos, style, out, *overrides)


@pytest.mark.slow
def test_train_writes_checkpoints_grid_and_logs(
    image_folder: Path, style_image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    last = train(config(image_folder, style_image, out), out, monkeypatch)
    assert last.is_file() and (out / "checkpoints" / "step_000002.ckpt").is_file()
    assert list((out / "val").glob("step_*.jpg"))
    assert (out / "logs" / "metrics.csv").is_file()
    net, info = load_transformer(last)
    assert info.styles == ["wave"] and info.facts["steps"] == 2
    assert net(torch.rand(1, 3, 37, 45) * 255).shape == (1, 3, 37, 45)


@pytest.mark.slow
def test_resume_continues_exactly(
    image_folder: Path, style_image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    straight = tmp_path / "straight"
    train(config(image_folder, style_image, straight, "trainer.max_steps=4"), straight, monkeypatch)
    first = tmp_path / "first"
    train(config(image_folder, style_image, first, "trainer.max_steps=2"), first, monkeypatch)
    resumed = tmp_path / "resumed"
    cfg = config(
        image_folder,
        style_image,
        resumed,
        "trainer.max_steps=4",
        f"resume={first / 'checkpoints' / 'last.ckpt'}",
    )
    train(cfg, resumed, monkeypatch)
    a = read_checkpoint(straight / "checkpoints" / "last.ckpt")
    b = read_checkpoint(resumed / "checkpoints" / "last.ckpt")
    assert a["global_step"] == b["global_step"] == 4
    for key, value in a["state_dict"].items():
        assert torch.equal(value, b["state_dict"][key]), key
    before = read_checkpoint(first / "checkpoints" / "last.ckpt")["hyper_parameters"]["facts"]
    after = b["hyper_parameters"]["facts"]
    assert after["train_seconds"] > before["train_seconds"] > 0  # time adds up across resumes
    assert set(after) >= {"steps", "final_losses", "machine"}
    assert "train_seconds_before" not in after


@pytest.mark.slow
def test_resuming_in_place_keeps_the_earlier_logs(
    image_folder: Path, style_image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    train(config(image_folder, style_image, run, "trainer.max_steps=2"), run, monkeypatch)
    first_log = (run / "logs" / "metrics.csv").read_text()
    last = run / "checkpoints" / "last.ckpt"
    resume = config(image_folder, style_image, run, "trainer.max_steps=4", f"resume={last}")
    train(resume, run, monkeypatch)
    assert (run / "logs" / "metrics.csv").read_text() == first_log
    assert (run / "logs" / "from_step_000002" / "metrics.csv").is_file()


@pytest.mark.parametrize(
    ("override", "error", "match"),
    [
        ("data.image_size=16", ConfigError, "image_size"),
        ("perceptual.style_weight=-1", ConfigError, "style_weight"),
        ("trainer.max_steps=0", ConfigError, "max_steps"),
        ("painting.image=/no/such/painting.jpg", ImageError, "not found"),
        ("resume=/no/such.ckpt", ConfigError, "resume"),
        ("trainer.precision=fp8", ConfigError, "precision"),
        ("spike_penalty.weight=-1", ConfigError, "spike_penalty.weight"),
        ("spike_penalty.limit=many", ConfigError, "spike_penalty.limit"),
    ],
)
def test_bad_config_values_fail_with_one_line(
    image_folder: Path,
    style_image: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    override: str,
    error: type,
    match: str,
) -> None:
    out = tmp_path / "run"
    with pytest.raises(error, match=match) as raised:
        train(config(image_folder, style_image, out, override), out, monkeypatch)
    assert "\n" not in str(raised.value)


def test_empty_data_folder(style_image: Path, tmp_path: Path, monkeypatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="holds 0 image"):
        train(config(empty, style_image, tmp_path / "run"), tmp_path / "run", monkeypatch)


@pytest.mark.slow
def test_command_line_error_is_one_line_and_exit_2(tmp_path: Path, style_image: Path) -> None:
    line = cli_error_line(
        "train",
        "experiment=smoke",
        f"data.root={tmp_path / 'nowhere'}",
        f"painting.image={style_image}",
        f"hydra.run.dir={tmp_path / 'run'}",
    )
    assert line == (
        f"stylenet: error: data.root {tmp_path / 'nowhere'} is not a folder; "
        "point data.root= at a folder of photos"
    )


def test_help_lists_every_perceptual_option() -> None:
    options = sorted(p.stem for p in (Path(config_dir()) / "perceptual").glob("*.yaml"))
    line = next(x for x in command_help("train").splitlines() if x.startswith("  perceptual "))
    listed = line.split("; one of ")[1].split(" - ")[0].split(",")
    assert sorted(name.strip() for name in listed) == options


@pytest.mark.slow
def test_auto_style_weight_evens_out_the_pull_at_training_start(
    image_folder: Path, style_image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = []
    for target in (1.0e3, 2.0e3):
        out = tmp_path / f"run_{target:g}"
        cfg = train_config(
            f"data.root={image_folder}",
            "painting=custom",
            f"painting.image={style_image}",
            "painting.name=mine",
            f"auto_style_weight.pull={target}",
            f"hydra.run.dir={out}",
        )
        _, info = load_transformer(train(cfg, out, monkeypatch))
        weights.append(info.facts["style_weights"]["mine"])
    assert weights[0] > 0 and weights[1] == pytest.approx(2 * weights[0], rel=1e-5)
    assert weights[0] != pytest.approx(1.0e4)  # measured, not perceptual.style_weight


def test_a_custom_painting_needs_its_image(
    image_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = train_config(f"data.root={image_folder}", "painting=custom")
    with pytest.raises(ConfigError, match=r"painting\.image is not set"):
        train(cfg, tmp_path / "run", monkeypatch)
