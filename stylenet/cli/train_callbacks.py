"""The Lightning callbacks and loggers of a training run, built from the ``callbacks:`` and
``logger:`` config groups (``conf/callbacks/``, ``conf/logger/``): one ``name: {_target_: …}``
entry each, with the run's folders filled in where the config leaves them ``null``."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from lightning.pytorch.callbacks import Callback, ProgressBar
from lightning.pytorch.loggers import Logger
from omegaconf import DictConfig

from stylenet.cli.config import build
from stylenet.cli.train_options import resumed_step
from stylenet.errors import ConfigError

TENSORBOARD = "lightning.pytorch.loggers.TensorBoardLogger"
CSV = "lightning.pytorch.loggers.CSVLogger"


def _entries(cfg: DictConfig, group: str) -> list[tuple[str, DictConfig]]:
    """``(name, node)`` for each entry of ``cfg.<group>`` that has a ``_target_``."""
    node = cfg.get(group)
    if node is None:
        return []
    if not isinstance(node, DictConfig):
        raise ConfigError(f"{group} must be a config group (e.g. {group}=default), got {node!r}")
    entries = []
    for key, value in node.items():
        name = str(key)
        if not isinstance(value, DictConfig) or "_target_" not in value:
            raise ConfigError(f"{group}.{name} has no _target_: give a callable to build")
        entries.append((name, value))
    return entries


def build_callbacks(cfg: DictConfig, output: Path) -> list[Callback]:
    """``cfg.callbacks`` built; a ``dirpath: null`` becomes ``output/checkpoints`` and the
    progress bar is left out when ``progress=false``."""
    callbacks = []
    for name, node in _entries(cfg, "callbacks"):
        kwargs: dict[str, Any] = {}
        if "dirpath" in node and node.dirpath is None:
            kwargs["dirpath"] = str(output / "checkpoints")
        callback = build(node, **kwargs)
        if not isinstance(callback, Callback):
            raise ConfigError(f"callbacks.{name} is not a Lightning callback: {node._target_}")
        if isinstance(callback, ProgressBar) and not cfg.progress:
            continue
        callbacks.append(callback)
    return callbacks


def resumed_log_version(step: int) -> str:
    """The CSV log's folder for a run resumed at ``step``: its rows go to a new file instead of
    repeating the steps after the last checkpoint in the first one."""
    return f"from_step_{step:06d}"


def build_loggers(cfg: DictConfig, output: Path) -> list[Logger]:
    """``cfg.logger`` built (``[]`` for ``logger=none``); a ``save_dir: null`` is ``output``,
    and the CSV logger's ``version: null`` is ``""`` for a fresh run, ``from_step_NNNNNN``
    for a resumed one (Lightning's CSV logger would replace an existing ``metrics.csv``)."""
    loggers = []
    for name, node in _entries(cfg, "logger"):
        target = str(node._target_)
        if target == TENSORBOARD and not _tensorboard_installed():
            raise ConfigError(
                "logger=tensorboard needs TensorBoard: pip install tensorboard (or use logger=csv)"
            )
        kwargs: dict[str, Any] = {}
        if "save_dir" in node and node.save_dir is None:
            kwargs["save_dir"] = str(output)
        if target == CSV and node.get("version") is None:
            start = resumed_step(cfg)
            kwargs["version"] = resumed_log_version(start) if start else ""
        logger = build(node, **kwargs)
        if not isinstance(logger, Logger):
            raise ConfigError(f"logger.{name} is not a Lightning logger: {target}")
        loggers.append(logger)
    return loggers


def _tensorboard_installed() -> bool:
    return any(importlib.util.find_spec(name) for name in ("tensorboard", "tensorboardX"))
