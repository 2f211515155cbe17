"""Where the Hydra configs live, and helpers to read validated values from them."""

from __future__ import annotations

from pathlib import Path

import stylenet
from stylenet.errors import ConfigError


def config_dir() -> str:
    """Absolute path of the ``conf/`` tree: inside the wheel, or at the repository root."""
    package_dir = Path(stylenet.__file__).resolve().parent
    for candidate in (package_dir / "conf", package_dir.parent / "conf"):
        if candidate.is_dir():
            return str(candidate)
    raise ConfigError(
        f"stylenet's config folder is missing next to {package_dir}; reinstall stylenet"
    )


def require_positive(name: str, value: float, allow_zero: bool = True) -> float:
    """Return ``value`` as float; raise :class:`ConfigError` if negative (or zero when not allowed)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if number < 0 or (number == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name} must be {bound}, got {value!r}")
    return number
