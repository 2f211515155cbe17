"""Checkpoints written by real training runs: weights-only loadable, checksummed, and
untrusted ``resume=`` / ``base=`` files refused before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from stylenet.cli.train import run
from stylenet.errors import CheckpointError
from stylenet.nn.checkpoint import CHECKSUM_FACT, network_weights, weights_checksum
from tests.helpers.images import synthetic_rgb
from tests.helpers.training import smoke_config


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _config(root: Path, out: Path, *overrides: str):
    return smoke_config(root / "photos", root / "painting.png", None, *overrides)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``checkpoints/last.ckpt`` of a 2-step tiny run."""
    root = tmp_path_factory.mktemp("train")
    (root / "photos").mkdir()
    for i in range(4):
        Image.fromarray(synthetic_rgb(80, 96, seed=i)).save(root / "photos" / f"p{i}.png")
    Image.fromarray(synthetic_rgb(64, 64, seed=9)).save(root / "painting.png")
    out = root / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("stylenet.cli.train.run_dir", lambda: out)
        return run(_config(root, out))


@pytest.mark.slow
def test_training_checkpoints_load_weights_only_with_no_extra_globals(trained: Path) -> None:
    # Plain torch.load, no safe globals added: Lightning's loops, callbacks and optimizer
    # states and our RNG states are all tensors and plain containers.
    checkpoint = torch.load(trained, map_location="cpu", weights_only=True)
    facts = checkpoint["hyper_parameters"]["facts"]
    assert facts[CHECKSUM_FACT] == weights_checksum(network_weights(checkpoint["state_dict"]))


def _resume(trained: Path, resume: Path, *overrides: str, monkeypatch) -> None:
    root = trained.parents[2]
    out = root / "resumed"
    monkeypatch.setattr("stylenet.cli.train.run_dir", lambda: out)
    run(_config(root, out, f"resume={resume}", "trainer.max_steps=3", *overrides))


@pytest.mark.slow
def test_crafted_resume_checkpoint_runs_nothing(trained: Path, tmp_path: Path, monkeypatch) -> None:
    checkpoint = torch.load(trained, map_location="cpu", weights_only=True)
    marker = tmp_path / "pwned"
    checkpoint["loops"]["hook"] = _Payload(marker)
    crafted = tmp_path / "crafted.ckpt"
    torch.save(checkpoint, crafted)
    with pytest.raises(CheckpointError, match="refusing to load"):
        _resume(trained, crafted, monkeypatch=monkeypatch)
    assert not marker.exists()
    with pytest.raises(CheckpointError, match="refusing to load"):
        _resume(trained, trained, f"base={crafted}", monkeypatch=monkeypatch)
    assert not marker.exists()


@pytest.mark.slow
def test_resume_with_another_model_is_refused(trained: Path, monkeypatch) -> None:
    with pytest.raises(CheckpointError, match="trained with another model: width"):
        _resume(trained, trained, "net=johnson", monkeypatch=monkeypatch)
    with pytest.raises(CheckpointError, match="trained on styles wave, not udnie"):
        _resume(trained, trained, "painting=udnie", monkeypatch=monkeypatch)


@pytest.mark.slow
def test_flipped_bit_in_resume_checkpoint_is_reported_corrupt(
    trained: Path, tmp_path: Path, monkeypatch
) -> None:
    checkpoint = torch.load(trained, map_location="cpu", weights_only=True)
    key = next(k for k in checkpoint["state_dict"] if k.startswith("net."))
    weight = checkpoint["state_dict"][key]
    weight[(0,) * weight.dim()] += 1.0  # stands in for a flipped bit
    damaged = tmp_path / "damaged.ckpt"
    torch.save(checkpoint, damaged)
    with pytest.raises(CheckpointError, match="checksum"):
        _resume(trained, damaged, monkeypatch=monkeypatch)
