"""``stylenet-train resume=CKPT``: continue a run with its own config, command-line overrides on top.

Every training checkpoint carries the run's (unresolved) config. On resume that config is the
base, and whatever the command line changed relative to the defaults (a key, a group such as
``trainer=ddp_cpu``, an experiment) is patched onto it, so ``resume=CKPT`` alone continues the
run and ``resume=CKPT trainer.max_steps=4000`` continues it further.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from lightning.pytorch.callbacks import Callback
from omegaconf import DictConfig, OmegaConf

from stylenet.cli.config import config_dir, upgrade_train_config
from stylenet.cli.values import plain_dict
from stylenet.errors import ConfigError
from stylenet.nn.checkpoint import read_checkpoint

log = logging.getLogger(__name__)

CONFIG_KEY = "stylenet_train_config"
_MISSING = object()


class SaveTrainConfig(Callback):
    """Stores the run's config (plain containers, unresolved) in every checkpoint."""

    def __init__(self, cfg: DictConfig) -> None:
        self.config = plain_dict(cfg, resolve=False)

    def on_save_checkpoint(self, trainer: Any, pl_module: Any, checkpoint: dict[str, Any]) -> None:
        checkpoint[CONFIG_KEY] = self.config


def default_config() -> DictConfig:
    """``conf/train.yaml`` with no overrides (inside or outside a running Hydra app)."""
    if GlobalHydra.instance().is_initialized():
        return compose(config_name="train")
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3", job_name="train"):
        return compose(config_name="train")


def config_patch(given: Any, default: Any) -> Any:
    """What ``given`` changes relative to ``default``: nested dict of changed values, ``None``
    marking a removed key, :data:`_MISSING` when nothing changed."""
    if isinstance(given, dict) and isinstance(default, dict):
        patch: dict[str, Any] = {}
        for key in given.keys() | default.keys():
            if key not in given:
                patch[key] = None
            elif key not in default:
                patch[key] = given[key]
            else:
                change = config_patch(given[key], default[key])
                if change is not _MISSING:
                    patch[key] = change
        return patch or _MISSING
    return _MISSING if given == default else given


def apply_patch(base: dict[str, Any], patch: dict[str, Any], given: dict[str, Any]) -> None:
    """Patch ``base`` in place: changed leaves and sub-trees from ``given``; removed keys go."""
    for key, change in patch.items():
        if key not in given:
            base.pop(key, None)
        elif isinstance(change, dict) and isinstance(base.get(key), dict):
            apply_patch(base[key], change, given[key])
        else:
            base[key] = given[key]


def explicit_keys(overrides: list[str], given: dict[str, Any]) -> list[str]:
    """The keys named by ``key=value`` overrides. A group choice (``net=tiny``) names its
    whole sub-tree; it only matters where the choice is the default (otherwise the patch
    already holds what it changes)."""
    keys = []
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        if key.startswith("hydra.") or key == "hydra":
            continue
        value = _lookup(given, key)
        if "." in key or value is not _MISSING:
            keys.append(key)
    return keys


def resume_config(cfg: DictConfig, overrides: list[str] | None = None) -> DictConfig:
    """The config to resume ``cfg.resume`` with (``cfg`` itself for a fresh run or a checkpoint
    written before checkpoints carried their config); a config stored in an older layout is
    upgraded first (:func:`stylenet.cli.config.upgrade_train_config`). ``overrides`` are the
    command line's ``key=value`` strings: a key named there wins even where it equals the
    default."""
    if not cfg.get("resume"):
        return cfg
    if not Path(str(cfg.resume)).expanduser().is_file():
        raise ConfigError(f"resume checkpoint not found: {cfg.resume} (give a .ckpt path)")
    saved = read_checkpoint(str(cfg.resume)).get(CONFIG_KEY)
    if not isinstance(saved, dict):
        log.warning("%s holds no training config: using the command line's", cfg.resume)
        return cfg
    given = plain_dict(cfg, resolve=False)
    default = plain_dict(default_config(), resolve=False)
    patch = config_patch(given, default)
    merged = upgrade_train_config(plain_dict(OmegaConf.create(saved), resolve=False))
    if patch is not _MISSING:
        apply_patch(merged, patch, given)
    merged["resume"] = given["resume"]
    result = OmegaConf.create(merged)
    for key in explicit_keys(overrides or [], given):
        value = _lookup(given, key)
        is_group = isinstance(value, dict) and "." not in key
        if value is not _MISSING and not (is_group and value != _lookup(default, key)):
            OmegaConf.update(result, key, value, merge=False, force_add=True)
    return result


def _lookup(tree: Any, key: str) -> Any:
    for part in key.split("."):
        if not isinstance(tree, dict) or part not in tree:
            return _MISSING
        tree = tree[part]
    return tree


def check_steps_left(cfg: DictConfig, step: int) -> None:
    """A resume at or past ``trainer.max_steps`` would train nothing: say so, naming the file."""
    max_steps = int(cfg.trainer.max_steps)
    if cfg.get("resume") and step >= max_steps:
        raise ConfigError(
            f"{cfg.resume} is at step {step}, already at trainer.max_steps={max_steps}: nothing to "
            f"train. Continue with a larger trainer.max_steps=..., or use {cfg.resume} as the model"
        )
