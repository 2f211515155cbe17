"""Held-out evaluation during ``stylenet-train``: the curve, its files, resume, config errors."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from PIL import Image

from stylenet.cli import train_heldout
from stylenet.cli.config import config_dir
from stylenet.errors import ConfigError
from stylenet.lit.heldout import HeldOutEvaluation
from stylenet.nn.checkpoint import read_checkpoint
from tests.helpers.images import synthetic_rgb
from tests.helpers.training import smoke_config, train


@pytest.fixture
def style_image(tmp_path: Path) -> Path:
    path = tmp_path / "painting.png"
    Image.fromarray(synthetic_rgb(64, 64, seed=9)).save(path)
    return path


@pytest.fixture
def heldout_photos(tmp_path: Path) -> Path:
    folder = tmp_path / "heldout"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(synthetic_rgb(40, 52, seed=20 + i)).save(folder / f"h{i}.png")
    return folder


def config(photos: Path, style: Path, out: Path, *overrides: str):
    return smoke_config(photos, style, out, *overrides)


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


@pytest.mark.slow
def test_training_scores_the_heldout_photos_and_draws_the_curve(
    image_folder: Path,
    style_image: Path,
    heldout_photos: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "run"
    heldout = [f"heldout.root={heldout_photos}", "heldout.every=2", "heldout.size=40"]
    train(config(image_folder, style_image, out, "trainer.max_steps=3", *heldout), out, monkeypatch)
    rows = read_rows(out / "heldout.csv")
    assert [int(r["step"]) for r in rows] == [0, 2, 3]  # start, every 2, the end
    minutes = [float(r["minutes"]) for r in rows]
    assert minutes[0] < minutes[1] < minutes[2]
    for row in rows:
        assert float(row["loss"]) == pytest.approx(float(row["content"]) + float(row["style"]))
    assert float(rows[0]["content"]) > 0 and float(rows[-1]["style"]) > 0
    with Image.open(out / "quality_curve.png") as curve:
        assert curve.format == "PNG"
    logged = read_rows(out / "logs" / "metrics.csv")
    assert [r["step"] for r in logged if r.get("heldout/loss")] == ["0", "2", "3"]


@pytest.mark.slow
def test_the_curve_continues_after_resume(
    image_folder: Path,
    style_image: Path,
    heldout_photos: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "run"
    heldout = [f"heldout.root={heldout_photos}", "heldout.every=2", "heldout.size=40"]
    train(config(image_folder, style_image, out, "trainer.max_steps=2", *heldout), out, monkeypatch)
    first = read_rows(out / "heldout.csv")
    last = out / "checkpoints" / "last.ckpt"
    state = read_checkpoint(last)["callbacks"]
    assert any(key.startswith("HeldOutEvaluation") for key in state)
    resume = config(
        image_folder, style_image, out, "trainer.max_steps=4", f"resume={last}", *heldout
    )
    train(resume, out, monkeypatch)
    rows = read_rows(out / "heldout.csv")
    assert [int(r["step"]) for r in rows] == [0, 2, 4]
    assert rows[:2] == first  # the earlier points are kept as they were
    assert float(rows[2]["minutes"]) > float(rows[1]["minutes"])


def test_auto_uses_the_shared_val2017_or_is_off(
    image_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config(image_folder, tmp_path / "p.png", tmp_path, "heldout.root=auto")
    monkeypatch.setattr(train_heldout, "shared_data_dir", lambda sub: str(tmp_path / "none" / sub))
    assert train_heldout.heldout_callbacks(cfg, tmp_path) == []
    val = tmp_path / "shared" / "coco" / "val2017"
    val.mkdir(parents=True)
    Image.fromarray(synthetic_rgb(40, 40)).save(val / "a.jpg")
    monkeypatch.setattr(
        train_heldout, "shared_data_dir", lambda sub: str(tmp_path / "shared" / sub)
    )
    (callback,) = train_heldout.heldout_callbacks(cfg, tmp_path)
    assert isinstance(callback, HeldOutEvaluation) and len(callback.photos) == 1
    assert max(callback.photos[0].shape[1:]) == 256  # heldout.size, the training crop size


def test_default_config_evaluates_val2017_and_smoke_runs_do_not() -> None:
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        assert compose(config_name="train").heldout.root == "auto"
        assert compose(config_name="train", overrides=["experiment=smoke"]).heldout.root is None


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ("heldout.root=/no/such/folder", "heldout.root folder not found"),
        ("heldout.root=TRAIN", "overlaps the training photos"),
        ("heldout.root=TRAIN/nested", "overlaps the training photos"),
        ("heldout.every=0", "heldout.every"),
        ("heldout.size=8", "heldout.size"),
    ],
)
def test_bad_heldout_settings_fail_with_one_line(
    image_folder: Path,
    style_image: Path,
    heldout_photos: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    override: str,
    match: str,
) -> None:
    out = tmp_path / "run"
    override = override.replace("TRAIN", str(image_folder))
    if not override.startswith("heldout.root"):
        override = f"heldout.root={heldout_photos} {override}"
    cfg = config(image_folder, style_image, out, *override.split())
    with pytest.raises(ConfigError, match=match) as raised:
        train(cfg, out, monkeypatch)
    assert "\n" not in str(raised.value)
