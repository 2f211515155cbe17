"""``@command(...)``: ``hydra.main`` with the command line checked first.

Before Hydra runs, the overrides are composed once here, so that Hydra's own errors (bad
override syntax, an unknown key, a config group typo) and missing required options come out as
one ``stylenet: error:`` line with exit status 2, listing the valid choices. SIGTERM unwinds
the command like an error (exit status 143), so no ``.partial`` file is left behind. Values given on
the command line must have the type of their default: a number for a number, ``true/false``
(or ``yes/no``, ``1/0``) for a boolean; booleans given as words are stored as booleans.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import hydra
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException, MissingConfigException, OverrideParseException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from stylenet.cli.errors import debugging, exit_on_error
from stylenet.errors import ConfigError
from stylenet.options import boolean

Task = Callable[[DictConfig], None]

# Options whose default is a number but which also take a name: a camera index or a video
# file / URL; Lightning's device count or ``auto``.
NUMBER_OR_NAME = {"camera", "trainer.devices"}
# ``painting=PATH`` of the inference commands (the training commands' ``painting`` group
# shares the config folder): stored as ``painting_file``.
PAINTING_ALIAS = {"painting": "painting_file"}


def command(
    *,
    config_path: str,
    config_name: str,
    aliases: Mapping[str, str] | None = None,
) -> Callable[[Task], Callable[[], None]]:
    """Decorate ``main(cfg)`` as ``@hydra.main`` would, with :func:`check_command_line` first.


    ``aliases`` maps a
    command-line spelling to its config key where the spelling is also the name of a config
    group (Hydra would take ``painting=PATH`` as the choice of a training painting config):
    ``{"painting": "painting_file"}`` reads ``painting=PATH`` as ``painting_file=PATH``."""

    def decorate(task: Task) -> Callable[[], None]:
        coerced: dict[str, Any] = {}

        def checked(cfg: DictConfig) -> None:
            for key, value in coerced.items():
                OmegaConf.update(cfg, key, value, merge=False)
            task(cfg)

        hydra_main = hydra.main(
            version_base="1.3", config_path=config_path, config_name=config_name
        )(functools.wraps(task)(checked))

        @functools.wraps(task)
        def main() -> None:
            signal.signal(signal.SIGTERM, _terminated)
            if debugging():  # Hydra then re-raises instead of printing its own summary
                os.environ.setdefault("HYDRA_FULL_ERROR", "1")
            args = [spell(arg, aliases or {}) for arg in sys.argv[1:]]
            sys.argv[1:] = args
            coerced.update(exit_on_error(check_command_line, config_path, config_name, args))
            hydra_main()

        return main

    return decorate


def spell(arg: str, aliases: Mapping[str, str]) -> str:
    """``arg`` with an aliased key replaced by its config key (``painting=x`` → ``painting_file=x``)."""
    key, equals, value = arg.partition("=")
    if equals and key in aliases:
        return f"{aliases[key]}={value}"
    return arg


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM unwinds like an error, so atomic writes remove their partial files."""
    print("stylenet: terminated", file=sys.stderr)
    raise SystemExit(128 + signum)


def check_command_line(
    config_dir: str,
    config_name: str,
    args: Sequence[str],
) -> dict[str, Any]:
    """Compose ``config_name`` with ``args``; raise :class:`ConfigError` on any Hydra error,
    missing required option or value of
    the wrong type. Returns the booleans to store."""
    if any(arg.startswith("-") for arg in args):  # --help, --cfg, -m …: Hydra's own business
        return {}
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=config_dir, version_base="1.3"):
        cfg = _compose(config_name, list(args), config_dir)
        choices = dict(cfg.hydra.runtime.choices)
        overrides = OverridesParser.create().parse_overrides(list(args))
        is_leaf = [
            o.key_or_group not in choices
            and not o.key_or_group.startswith("hydra")
            and not o.is_delete()
            for o in overrides
        ]
        leaves = [o for o, leaf in zip(overrides, is_leaf, strict=True) if leaf]
        groups = [str(a) for a, leaf in zip(args, is_leaf, strict=True) if not leaf]
        base = _compose(config_name, groups, config_dir) if leaves else cfg
    GlobalHydra.instance().clear()
    body = OmegaConf.masked_copy(cfg, [str(k) for k in cfg if k != "hydra"])
    missing = sorted(OmegaConf.missing_keys(body))
    if missing:
        raise ConfigError(
            f"{missing[0]}= is required{_describe(config_dir, config_name, missing[0])}"
        )
    coerced = {}
    for override in leaves:
        key = override.key_or_group
        default = OmegaConf.select(base, key, throw_on_resolution_failure=False)
        value = OmegaConf.select(cfg, key, throw_on_resolution_failure=False)
        if value is None or default is None:
            continue
        if isinstance(default, bool):
            coerced[key] = boolean(key, value)
        elif (
            isinstance(default, (int, float))
            and isinstance(value, (str, bool))  # lists ([H,W]) and fractions: the run checks
            and key not in NUMBER_OR_NAME
        ):
            kind = "a number" if isinstance(default, float) else "an integer"
            raise ConfigError(f"{key} must be {kind}, got {value!r}")
    return coerced


def _compose(config_name: str, overrides: list[str], config_dir: str) -> DictConfig:
    """``compose`` whose errors are one-line :class:`ConfigError`s."""
    try:
        return compose(config_name=config_name, overrides=overrides, return_hydra_config=True)
    except OverrideParseException as error:
        bad = next((o for o in overrides if _unparsable(o)), " ".join(overrides))
        first = str(error).splitlines()[0]
        raise ConfigError(
            f"cannot parse the option {bad!r} ({first}); write key=value, and quote values "
            "with spaces, brackets or braces: key='[a, b]'"
        ) from error
    except MissingConfigException as error:
        found = re.search(r"Could not find '([^']+)/([^']+)'", str(error))
        options = re.findall(r"^\t(\S+)$", str(error).split("Config search path")[0], re.M)
        if found:
            group, name = found.groups()
            raise ConfigError(
                f"unknown {group} {name!r}; choose {group}= from {', '.join(options)}"
            ) from error
        raise ConfigError(str(error).splitlines()[0]) from error
    except HydraException as error:
        unknown = re.search(r"Could not override '([^']+)'", str(error))
        if unknown:
            key = unknown.group(1)
            raise ConfigError(
                f"unknown option {key}; {_known_keys(config_name, key, overrides)}"
            ) from error
        raise ConfigError(str(error).splitlines()[0]) from error
    except OmegaConfBaseException as error:
        raise ConfigError(str(error).splitlines()[0]) from error


def _unparsable(override: str) -> bool:
    try:
        OverridesParser.create().parse_overrides([override])
    except OverrideParseException:
        return True
    return False


def _known_keys(config_name: str, key: str, overrides: list[str]) -> str:
    """``valid options here: a, b, c`` for the parent node of ``key``."""
    parent, _, _ = key.rpartition(".")
    others = [o for o in overrides if not o.startswith((key + "=", "+" + key + "="))]
    try:
        cfg = compose(config_name=config_name, overrides=others)
    except (HydraException, OmegaConfBaseException):
        cfg = compose(config_name=config_name)
    node = OmegaConf.select(cfg, parent) if parent else cfg
    if not isinstance(node, DictConfig):
        return "check its spelling"
    where = f"{parent}." if parent else ""
    return f"valid options{' of ' + parent if parent else ''}: " + ", ".join(
        f"{where}{name}" for name in sorted(str(k) for k in node)
    )


def _describe(config_dir: str, config_name: str, key: str) -> str:
    """``: <the comment on key's line in the config file>`` (or a generic hint)."""
    file = Path(config_dir) / f"{config_name}.yaml"
    name = key.rpartition(".")[2]
    if file.is_file():
        for line in file.read_text().splitlines():
            found = re.match(rf"\s*{re.escape(name)}:\s*\?\?\?\s*#\s*(.+)", line)
            if found:
                return f" ({found.group(1).strip()}): give {key}=..."
    return f": give {key}=..."
