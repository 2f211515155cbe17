"""Config values as plain Python: the library takes dicts and lists, never a DictConfig."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf


def plain(value: Any) -> Any:
    """``DictConfig``/``ListConfig`` → ``dict``/``list`` (resolved); anything else unchanged."""
    if isinstance(value, (DictConfig, ListConfig)):
        return OmegaConf.to_container(value, resolve=True)
    return value
