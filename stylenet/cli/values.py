"""Config values as plain Python: the library takes dicts and lists, never a DictConfig."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from stylenet.errors import ConfigError


def plain(value: Any) -> Any:
    """``DictConfig``/``ListConfig`` → ``dict``/``list`` (resolved); anything else unchanged."""
    if isinstance(value, (DictConfig, ListConfig)):
        return OmegaConf.to_container(value, resolve=True)
    return value


def plain_dict(node: Any, *, resolve: bool = True) -> dict[str, Any]:
    """A ``DictConfig`` (or a dict) as a plain ``dict`` with string keys, nested configs plain."""
    container = OmegaConf.to_container(node, resolve=resolve) if OmegaConf.is_config(node) else node
    if not isinstance(container, dict):
        raise ConfigError(f"expected a mapping of options, got {type(container).__name__}")
    return {str(key): value for key, value in container.items()}
