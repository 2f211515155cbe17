"""Style weights: the one notion of a blend over a model's styles.

A multi-style network (Dumoulin, Shlens and Kudlur, "A Learned Representation for Artistic
Style", ICLR 2017) takes a row of ``S`` non-negative weights over its ``S`` styles that sums
to 1 (a one-hot row selects one style). Every place that turns user input into such a row,
or decides whether a network is multi-style, uses these functions. Plain Python and NumPy:
no torch, so the ONNX serving path can use them too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from stylenet.errors import ConfigError

MULTI_STYLE_NORM = "conditional_instance"


def is_multi_style(*, norm: str | None = None, num_styles: int | None = None) -> bool:
    """Whether a network takes style weights: its norm is conditional instance norm, or
    (when only the count is known) it has more than one style."""
    if norm is not None:
        return norm == MULTI_STYLE_NORM
    if num_styles is not None:
        return int(num_styles) > 1
    raise ValueError("is_multi_style needs norm= or num_styles=")


def normalize_weights(
    weights: Sequence[float] | np.ndarray, *, num_styles: int, what: str = "style weights"
) -> np.ndarray:
    """``S`` non-negative weights, not all zero → float32 ``S`` summing to 1.

    Raises :class:`ConfigError` naming ``what`` when the count is wrong, a weight is not a
    finite number, negative, or all are zero.
    """
    if num_styles < 1:
        raise ConfigError("at least one style is needed")
    try:
        values = [float(w) for w in np.asarray(weights, dtype=object).reshape(-1)]
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{what} must be numbers, got {weights!r}") from error
    if len(values) != num_styles:
        raise ConfigError(
            f"{what} has {len(values)} weight(s) for {num_styles} style(s); give one each"
        )
    if any(not math.isfinite(w) or w < 0 for w in values) or sum(values) <= 0:
        raise ConfigError(f"{what} must be >= 0 and not all zero, got {values}")
    row = np.asarray(values, dtype=np.float64)
    return (row / row.sum()).astype(np.float32)


def weights_from_blend(styles: Sequence[str], blend: Mapping[str, float | str]) -> np.ndarray:
    """``{name: weight}`` over some of ``styles`` → normalised float32 ``S`` weights.

    Unknown names, non-numbers, negative or all-zero weights raise :class:`ConfigError`.
    """
    styles = [str(s) for s in styles]
    unknown = [str(name) for name in blend if str(name) not in styles]
    if unknown:
        raise ConfigError(
            f"unknown style(s) {', '.join(unknown)}; this model has: {', '.join(styles)}"
        )
    row = [0.0] * len(styles)
    for name, value in blend.items():
        try:
            weight = float(value)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"blend weight of {name} must be a number, got {value!r}") from error
        if not math.isfinite(weight) or weight < 0:
            raise ConfigError(f"blend weights must be >= 0, got {name}: {value}")
        row[styles.index(str(name))] += weight
    if sum(row) <= 0:
        raise ConfigError("blend weights are all zero; give at least one style a positive weight")
    return normalize_weights(row, num_styles=len(styles), what="blend")


def one_hot(styles: Sequence[str], name: str) -> np.ndarray:
    """float32 ``S`` weights selecting the style ``name`` of ``styles``."""
    return weights_from_blend(styles, {str(name): 1.0})
