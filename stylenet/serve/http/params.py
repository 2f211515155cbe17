"""Query parameters of the stylize and live routes → validated options (400 on bad values)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from stylenet.errors import ConfigError
from stylenet.serve.blend import choose_weights
from stylenet.serve.http.errors import bad_request
from stylenet.serve.http.settings import FORMATS

MIN_SIDE = 32


@dataclass(frozen=True)
class StyleOptions:
    """How to stylize: ``weights`` (``S`` float32 or ``None`` = first style), ``strength`` in
    [0, 1], ``preserve_color``, ``size`` (longest side or ``None``) and the output ``fmt``."""

    weights: np.ndarray | None
    strength: float = 1.0
    preserve_color: bool = False
    size: int | None = None
    fmt: str = "jpeg"


def blend_from_query(text: str | None) -> dict[str, float | str] | None:
    """``starry_night:0.7,wave:0.3`` or ``{"starry_night": 0.7, "wave": 0.3}`` → a dict."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, Mapping):
            raise bad_request('blend must look like {"starry_night": 0.7, "wave": 0.3}')
        return {str(k): v for k, v in value.items()}
    blend: dict[str, float | str] = {}
    for part in text.split(","):
        name, sep, weight = part.partition(":")
        if not sep or not name.strip():
            raise bad_request(f"blend must look like starry_night:0.7,wave:0.3, got {text!r}")
        blend[name.strip()] = weight.strip()  # numbers are checked by weights_from_blend
    return blend


def check_style_options(*, strength: float, size: int | None, fmt: str) -> str:
    """400 on a bad ``strength``, ``size`` or ``fmt``; returns the format's canonical name."""
    if not math.isfinite(strength) or not 0.0 <= strength <= 1.0:
        raise bad_request(f"strength must be in [0, 1], got {strength}")
    if size is not None and size < MIN_SIDE:
        raise bad_request(f"size must be >= {MIN_SIDE} (the longest side in pixels), got {size}")
    fmt = fmt.lower()
    if fmt == "jpg":
        fmt = "jpeg"
    if fmt not in FORMATS:
        raise bad_request(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return fmt


def style_options(
    styles: Sequence[str],
    *,
    style: str | None = None,
    blend: str | None = None,
    strength: float = 1.0,
    preserve_color: bool = False,
    size: int | None = None,
    fmt: str = "jpeg",
) -> StyleOptions:
    """Validate the stylize options against a model's ``styles``."""
    fmt = check_style_options(strength=strength, size=size, fmt=fmt)
    try:
        weights = choose_weights(styles, style, blend_from_query(blend))
    except ConfigError as error:
        raise bad_request(str(error)) from error
    return StyleOptions(weights, float(strength), bool(preserve_color), size, fmt)
