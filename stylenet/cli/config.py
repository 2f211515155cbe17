"""The CLI's config stack: where the Hydra configs live (one root, ``conf/``), ``build``
(instantiate with one-line errors), the upgrade of configs stored by older runs and the
OmegaConf resolvers. Only ``stylenet/cli/`` imports this; the library and the scripts use :mod:`stylenet.options` and :mod:`stylenet.resources`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import OmegaConf

from stylenet.cli.help import help_template
from stylenet.errors import ConfigError, StylenetError
from stylenet.options import require_positive
from stylenet.resources import config_dir, shared_data_dir, shipped_models_dir

__all__ = [
    "build",
    "config_dir",
    "require_positive",
    "shared_data_dir",
    "shipped_models_dir",
]


# What ``build`` may call. A config can come from a file (a resumed checkpoint carries its
# run's config), and ``_target_`` names any callable: ``os.system`` or ``torch.load`` would run.
BUILD_TARGETS = frozenset(
    {
        "stylenet.losses.PerceptualLoss",
        "stylenet.nn.transformer.TransformerNet",
        "stylenet.lit.datamodule.PhotoDataModule",
        "stylenet.lit.progress.RunProgressBar",
        "lightning.Trainer",
        "lightning.pytorch.callbacks.LearningRateMonitor",
        "lightning.pytorch.callbacks.ModelCheckpoint",
        "lightning.pytorch.callbacks.OnExceptionCheckpoint",
        "lightning.pytorch.callbacks.TQDMProgressBar",
        "lightning.pytorch.loggers.CSVLogger",
        "lightning.pytorch.loggers.TensorBoardLogger",
        "lightning.pytorch.strategies.DDPStrategy",
        "datetime.timedelta",
    }
)

MODEL_CHECKPOINT = "lightning.pytorch.callbacks.ModelCheckpoint"
PHOTO_DATA = "stylenet.lit.datamodule.PhotoDataModule"
NO_AUGMENTATION = {"zoom": 1.0, "flip": False}  # photo data stored before augmentation existed
NO_SPIKE_PENALTY = {"weight": 0.0, "limit": 4.0}  # runs stored before the spike penalty existed


def upgrade_train_config(saved: dict[str, Any]) -> dict[str, Any]:
    """A training config stored by an older run (plain dicts, unresolved) in today's layout.

    ``logger: csv`` (a name, before ``logger/`` was a group) becomes
    that group's config, and a run from before the ``callbacks/`` group gets
    ``callbacks/default.yaml``, which holds what those runs were built with; a stored
    checkpoint callback without ``enable_version_counter`` gets ``false`` (today's default:
    a resumed run overwrites its ``last.ckpt``), and stored photo data without the
    augmentation options gets them off (``zoom: 1.0``, ``flip: false``: how it was trained),
    and a run stored before the spike penalty gets it off (:data:`NO_SPIKE_PENALTY`).
    ``saved`` is not edited."""
    upgraded = dict(saved)
    logger = upgraded.get("logger")
    if isinstance(logger, str):
        upgraded["logger"] = _group_file("logger", logger)
    if "callbacks" not in upgraded:
        upgraded["callbacks"] = _group_file("callbacks", "default")
    for node in (upgraded.get("callbacks") or {}).values():
        # stored before the checkpoint callback overwrote last.ckpt on resume (a moved run
        # would otherwise write last-v1.ckpt beside a stale last.ckpt)
        if isinstance(node, dict) and node.get("_target_") == MODEL_CHECKPOINT:
            node.setdefault("enable_version_counter", False)
    data = upgraded.get("data")
    if isinstance(data, dict) and data.get("_target_") == PHOTO_DATA:
        upgraded["data"] = {**data, **{k: v for k, v in NO_AUGMENTATION.items() if k not in data}}
    if "spike_penalty" not in upgraded:
        upgraded["spike_penalty"] = dict(NO_SPIKE_PENALTY)
    return upgraded


def _group_file(group: str, name: str) -> dict[str, Any]:
    """``conf/<group>/<name>.yaml`` as plain containers, unresolved (``{}`` when empty); the
    files read here have no defaults list of their own (tests/test_config.py compares them with
    the composed group)."""
    file = Path(config_dir()) / group / f"{name}.yaml"
    if not file.is_file():
        known = sorted(p.stem for p in file.parent.glob("*.yaml"))
        raise ConfigError(f"unknown {group} {name!r}; choose {group}= from {', '.join(known)}")
    node = OmegaConf.to_container(OmegaConf.load(file), resolve=False) or {}
    if not isinstance(node, dict):
        raise ConfigError(f"{file} must hold a mapping")
    return {str(key): value for key, value in node.items()}


def check_targets(node: Any, where: str = "config") -> None:
    """Refuse any ``_target_`` in ``node`` (searched recursively) outside :data:`BUILD_TARGETS`."""
    if OmegaConf.is_config(node):
        node = OmegaConf.to_container(node, resolve=False)
    if isinstance(node, dict):
        target = node.get("_target_")
        if target is not None and str(target) not in BUILD_TARGETS:
            raise ConfigError(
                f"refusing _target_ {target!r} in {where}: stylenet builds only "
                f"{', '.join(sorted(BUILD_TARGETS))}"
            )
        for key, value in node.items():
            check_targets(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            check_targets(value, f"{where}[{index}]")


def build(node: Any, **kwargs: Any) -> Any:
    """``hydra.utils.instantiate`` of an allowed target (:func:`check_targets`) that lets
    stylenet's one-line errors through unwrapped.

    Hydra wraps every exception raised by a ``_target_`` in ``InstantiationException``; a
    :class:`~stylenet.errors.StylenetError` cause is re-raised as is, anything else becomes a
    :class:`ConfigError` naming the target.
    """
    check_targets(node)
    check_targets(kwargs, "arguments")
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as error:
        if isinstance(error.__cause__, StylenetError):
            raise error.__cause__ from error.__cause__.__cause__
        cause = error.__cause__ or error
        target = node.get("_target_", "?") if hasattr(node, "get") else "?"
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        raise ConfigError(f"bad config for {target}: {first}") from error


if not OmegaConf.has_resolver("shared_data"):
    OmegaConf.register_new_resolver("shared_data", shared_data_dir)
if not OmegaConf.has_resolver("stylenet_help"):
    OmegaConf.register_new_resolver("stylenet_help", help_template)
