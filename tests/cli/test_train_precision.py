"""``trainer.precision=auto`` (the default) is resolved for the machine when the trainer is built."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from stylenet.cli import train_options
from stylenet.cli.config import config_dir
from stylenet.cli.train_module import training_facts
from stylenet.cli.train_trainer import build_trainer
from stylenet.devices import resolve_precision
from tests.helpers.cpuinfo import AVX2_ONLY, AVX512_BF16


def compose_train(*overrides: str):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3", job_name="train"):
        return compose(config_name="train", overrides=["progress=false", *overrides])


def test_defaults_are_auto_precision_and_the_shipped_network() -> None:
    cfg = compose_train()
    assert cfg.trainer.precision == "auto"
    shipped = compose_train("experiment=ship", "painting=wave")
    assert cfg.net == shipped.net  # the network the ship recipe trains (johnson_small)
    assert cfg.net.width == 0.5


@pytest.mark.parametrize(
    ("cpuinfo", "override", "expected"),
    [
        (AVX2_ONLY, None, "32-true"),
        (AVX512_BF16, None, "bf16-mixed"),
        (AVX2_ONLY, "trainer.precision=bf16-mixed", "bf16-mixed"),
        (AVX512_BF16, "trainer.precision=32-true", "32-true"),
    ],
)
def test_the_trainer_and_model_card_get_the_resolved_precision(
    cpuinfo: str,
    override: str | None,
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = functools.partial(resolve_precision, cpuinfo=lambda: cpuinfo, cuda_bf16=False)
    monkeypatch.setattr(train_options, "resolve_precision", fake)
    cfg = compose_train("heldout.root=null", *([override] if override else []))
    trainer = build_trainer(cfg, tmp_path)
    assert trainer.precision == expected
    assert training_facts(cfg, [])["precision"] == expected
