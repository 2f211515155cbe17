"""``--help`` is written from each command's config: a summary, usage, the command's own
groups and one documented line per option."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

import stylenet.cli.config  # noqa: F401  (registers the resolvers)
from stylenet.cli.help import COMMANDS, command_help, config_file
from tests.helpers.paths import REPO


def listed(text: str, title: str) -> dict[str, str]:
    """The indented lines under the line starting with ``title``, by their first word's key."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(title)]
    block: dict[str, str] = {}
    for line in lines[starts[0] + 1 :] if starts else []:
        if not line.startswith("  "):
            break
        block[line.split()[0].split("=")[0]] = line
    return block


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_of_the_config_has_a_documented_line(command: str) -> None:
    text = command_help(command)
    assert text.startswith(f"stylenet-{command}: ")
    options, groups = listed(text, "Options"), listed(text, "Config groups")
    assert options, "no options listed"
    path = config_file(command)
    with initialize_config_dir(str(path.parent), version_base="1.3"):
        cfg = OmegaConf.to_container(compose(path.stem), resolve=False)
    assert isinstance(cfg, dict)
    for key, value in cfg.items():
        if key in groups:
            continue
        nested = isinstance(value, dict) and key not in options
        for name in [f"{key}.{sub}" for sub in value] if nested else [key]:
            assert name in options, f"{command}: no help line for {name}"
            assert len(options[name].split(None, 1)) == 2, f"{command}: {name} is not described"


def test_groups_listed_are_the_commands_own() -> None:
    """All commands share conf/: each lists only the groups of its own defaults list."""
    gatys = listed(command_help("gatys"), "Config groups")
    assert set(gatys) == {"perceptual"} and "vgg19_caffe_fast" in gatys["perceptual"]
    assert set(listed(command_help("invert"), "Config groups")) == {"perceptual"}
    for command in ("stylize", "export", "webcam", "serve", "inspect", "dream", "fool"):
        assert "Config groups" not in command_help(command), command
    train = listed(command_help("train"), "Config groups")
    assert set(train) == {
        "paths",
        "net",
        "perceptual",
        "data",
        "painting",
        "trainer",
        "logger",
        "callbacks",
        "experiment",
    }
    assert "vgg19_caffe_fast; one of random," in train["perceptual"]
    assert "one of add_style," in train["experiment"]
    assert "default csv; one of csv, none, tensorboard" in train["logger"]
    assert "one of johnson, johnson_fast, johnson_lean, johnson_small, tiny" in train["net"]


@pytest.mark.parametrize("command", COMMANDS)
def test_the_configs_hydra_help_template_is_this_text(command: str) -> None:
    path = config_file(command)
    with initialize_config_dir(str(path.parent), version_base="1.3"):
        cfg = compose(path.stem, return_hydra_config=True)
    assert cfg.hydra.help.template == command_help(command).replace("$", "$$")
    if command == "serve":  # a server writes nothing: it runs where it is started
        assert cfg.hydra.run.dir == "."
    elif command != "inspect":  # inspect: Hydra's outputs/<date>/<time>
        assert cfg.hydra.run.dir.startswith(f"outputs/{command}/")


@pytest.mark.slow
@pytest.mark.parametrize("command", ["gatys", "invert", "train", "export"])
def test_help_from_the_command_line_needs_no_torch(command: str) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    probe = f"import runpy, sys; sys.argv = ['{command}', '--help']\n"
    probe += f"try:\n    runpy.run_module('stylenet.cli.{command}', run_name='__main__')\n"
    probe += "finally:\n    print('torch' in sys.modules, file=sys.stderr)"
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    assert proc.stdout == command_help(command) + "\n"  # printed
    assert proc.stderr.strip().splitlines()[-1] == "False"  # the library loads only to run
