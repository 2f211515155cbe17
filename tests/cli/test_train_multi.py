from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from PIL import Image

from stylenet.cli.config import config_dir
from stylenet.cli.train import run
from stylenet.errors import ConfigError
from stylenet.nn.checkpoint import load_transformer
from tests.helpers.images import synthetic_rgb


@pytest.fixture
def style_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "styles"
    folder.mkdir()
    for seed, name in enumerate(("wave", "udnie", "the_scream")):
        Image.fromarray(synthetic_rgb(64, 64, seed=20 + seed)).save(folder / f"{name}.jpg")
    return folder


def train(photos: Path, styles: Path, out: Path, monkeypatch, *overrides: str) -> Path:
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3", job_name="train"):
        cfg = compose(
            config_name="train",
            overrides=[
                "experiment=smoke",
                "perceptual=random",
                f"data.root={photos}",
                "data.image_size=40",
                f"paths.styles={styles}",
                "painting.size=64",
                "progress=false",
                *overrides,
            ],
        )
    monkeypatch.setattr("stylenet.cli.train.run_dir", lambda: out)
    return run(cfg)


@pytest.mark.slow
def test_multi_style_then_add_style(
    image_folder: Path, style_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    multi = train(image_folder, style_dir, tmp_path / "m", monkeypatch, "styles=[wave,udnie]")
    net, info = load_transformer(multi)
    assert info.styles == ["wave", "udnie"] and net.num_styles == 2

    added = train(
        image_folder,
        style_dir,
        tmp_path / "a",
        monkeypatch,
        "experiment=add_style",
        f"base={multi}",
        "painting=the_scream",
        "trainer.max_steps=2",
        "data.num_workers=0",
    )
    extended, info = load_transformer(added)
    assert info.styles == ["wave", "udnie", "the_scream"] and info.facts["added_styles"]
    image = torch.rand(1, 3, 40, 40) * 255
    with torch.no_grad():
        for index in range(2):
            before = net(image, torch.eye(2)[index][None])
            after = extended(image, torch.eye(3)[index][None])
            assert torch.equal(before, after)
        assert not torch.equal(extended(image, torch.eye(3)[2][None]), before)


@pytest.mark.slow
def test_the_spike_penalty_trains_logs_and_goes_on_the_card(
    image_folder: Path, style_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "spikes"
    last = train(
        image_folder,
        style_dir,
        out,
        monkeypatch,
        "styles=[wave,udnie]",
        "spike_penalty.weight=2",
        "spike_penalty.limit=0.5",  # low: a random network's activations exceed it
        "trainer.log_every_n_steps=1",
    )
    _, info = load_transformer(last)
    assert info.facts["spike_penalty"] == {"weight": 2.0, "limit": 0.5}
    rows = list(csv.DictReader((out / "logs" / "metrics.csv").open()))
    spikes = [float(row["train/spikes"]) for row in rows if row.get("train/spikes")]
    assert spikes and all(value > 0 for value in spikes)
    plain = train(image_folder, style_dir, tmp_path / "plain", monkeypatch, "styles=[wave,udnie]")
    assert "spike_penalty" not in load_transformer(plain)[1].facts  # off by default


@pytest.mark.slow
def test_multi_style_experiment_turns_the_spike_penalty_on() -> None:
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        multi = compose(config_name="train", overrides=["experiment=ship_multi"])
        single = compose(config_name="train", overrides=["experiment=ship"])
    assert multi.spike_penalty.weight == 1.0 and single.spike_penalty.weight == 0.0


@pytest.mark.slow
def test_add_style_refuses_an_existing_name(
    image_folder: Path, style_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    multi = train(image_folder, style_dir, tmp_path / "m", monkeypatch, "styles=[wave,udnie]")
    with pytest.raises(ConfigError, match="already has style"):
        train(
            image_folder,
            style_dir,
            tmp_path / "a",
            monkeypatch,
            "experiment=add_style",
            f"base={multi}",
            "painting=wave",
        )


def test_unknown_style_name(
    image_folder: Path, style_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match="unknown style 'monet'"):
        train(image_folder, style_dir, tmp_path / "m", monkeypatch, "styles=[wave,monet]")
