"""Plain checks of option values given by users (no Hydra, no torch).

Each returns the value in its proper type or raises :class:`~stylenet.errors.ConfigError`
with one line naming the option, what it got and what it accepts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from stylenet.errors import ConfigError

# The largest image, in pixels, that stylenet reads or makes (a 6000×4000 photo is 24 MP).
MAX_PIXELS = 250_000_000
# The longest side an image may be resized to (a square of that side is MAX_PIXELS).
MAX_SIDE = math.isqrt(MAX_PIXELS)

_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off")


def boolean(name: str, value: Any) -> bool:
    """``true/false/yes/no/1/0`` (any case; also ``on/off``) → bool."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false (or yes/no, 1/0), got {value!r}")


def number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    integer: bool = False,
    low_open: bool = False,
) -> float | int:
    """A finite number (an int when ``integer``) within ``[low, high]`` (``(low, …`` if
    ``low_open``); ``None`` bounds are unbounded."""
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or value is None:
        raise ConfigError(f"{name} must be {kind}{_range(low, high, low_open)}, got {value!r}")
    try:
        parsed = float(value)
    except (TypeError, ValueError) as error:
        raise ConfigError(
            f"{name} must be {kind}{_range(low, high, low_open)}, got {value!r}"
        ) from error
    if not math.isfinite(parsed) or (integer and not parsed.is_integer()):
        raise ConfigError(f"{name} must be {kind}{_range(low, high, low_open)}, got {value!r}")
    below = low is not None and (parsed <= low if low_open else parsed < low)
    if below or (high is not None and parsed > high):
        raise ConfigError(f"{name} must be {kind}{_range(low, high, low_open)}, got {value!r}")
    return int(parsed) if integer else parsed


def _range(low: float | None, high: float | None, low_open: bool) -> str:
    def show(bound: float) -> str:
        return str(int(bound)) if float(bound).is_integer() else str(bound)

    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{show(low)}, {show(high)}]"
    if low is not None:
        return f" {'>' if low_open else '>='} {show(low)}"
    if high is not None:
        return f" <= {show(high)}"
    return ""


def optional_number(name: str, value: Any, **bounds: Any) -> float | int | None:
    """:func:`number`, or ``None`` for ``None``/``null``."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("null", "none")):
        return None
    return number(name, value, **bounds)


def side(name: str, value: Any) -> int | None:
    """An image side length in pixels (``None`` allowed): 1 … :data:`MAX_SIDE`."""
    result = optional_number(name, value, low=1, integer=True)
    if result is not None and result > MAX_SIDE:
        raise ConfigError(
            f"{name}={value} is over the pixel limit ({MAX_PIXELS // 1_000_000} megapixels: "
            f"at most {MAX_SIDE} px a side)"
        )
    return None if result is None else int(result)


def choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """One of ``choices`` (exact match)."""
    text = str(value)
    if text not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return text


def string_list(name: str, value: Any) -> list[str] | None:
    """A list of non-empty strings; one string (``a`` or ``a,b``) is read as that list."""
    if value is None:
        return None
    items: Iterable[Any] = value.split(",") if isinstance(value, str) else value
    try:
        result = [str(item).strip() for item in items]
    except TypeError as error:
        raise ConfigError(f"{name} must be a list of names, got {value!r}") from error
    if not result or not all(result):
        raise ConfigError(f"{name} must be a list of non-empty names, got {value!r}")
    return result


def require_positive(name: str, value: Any, allow_zero: bool = True) -> float:
    """Return ``value`` as float; raise :class:`ConfigError` if negative (or zero when not allowed)."""
    try:
        parsed = float(value)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{name} must be a number, got {value!r}") from error
    if parsed < 0 or (parsed == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name} must be {bound}, got {value!r}")
    return parsed
