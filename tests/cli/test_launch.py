from __future__ import annotations

import importlib.util

import pytest

from stylenet.cli import launch
from tests.conftest import REPO

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11


def console_scripts() -> dict[str, str]:
    with open(REPO / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]["scripts"]


def test_every_console_script_resolves_and_training_commands_check_the_extra() -> None:
    scripts = console_scripts()
    for name, target in scripts.items():
        module, function = target.split(":")
        if module == "stylenet.cli.launch":
            assert name == f"stylenet-{function}" and function in launch.TRAINING_COMMANDS
            assert callable(getattr(launch, function))
        else:  # the base install's commands start directly (and import no torch)
            assert name in ("stylenet-stylize", "stylenet-webcam", "stylenet-serve")
            assert importlib.util.find_spec(module) is not None
    guarded = {t.split(":")[1] for t in scripts.values() if t.startswith("stylenet.cli.launch:")}
    assert guarded == set(launch.TRAINING_COMMANDS)
