"""Style choice and blending for multi-style networks (Dumoulin, Shlens and Kudlur 2017).

A blend is a row of ``S`` non-negative weights over the model's styles, normalised to sum
to 1 (:mod:`stylenet.styles`); the network mixes the styles' conditional instance-norm
(γ, β) with it. Plain Python and NumPy: the CLI turns its config values into plain types.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from stylenet.errors import ConfigError
from stylenet.styles import one_hot, weights_from_blend


def parse_blend(value: object) -> dict[str, float] | None:
    """A ``blend=`` value (``{a: 0.7, b: 0.3}``, any mapping) → a plain dict; ``None`` stays."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ConfigError(f'blend must look like "{{starry_night: 0.7, wave: 0.3}}", got {value!r}')
    return {str(name): weight for name, weight in value.items()}


def choose_weights(
    styles: Sequence[str],
    style: str | None = None,
    blend: Mapping[str, float | str] | None = None,
) -> np.ndarray | None:
    """The float32 ``S`` weights for ``style=`` or ``blend=`` (not both); ``None`` = the first style."""
    if style is not None and blend is not None:
        raise ConfigError("give either style= or blend=, not both")
    if blend is not None:
        return weights_from_blend(styles, blend)
    if style is not None:
        return one_hot(styles, str(style))
    return None


def interpolation_grid(styles: Sequence[str], corners: Sequence[str], size: int) -> np.ndarray:
    """float32 ``size×size×S`` (or ``1×size×S``) blend weights between 2 or 4 corner styles
    (Dumoulin et al. 2017, Fig. 7).

    Two styles give one row (``1×size×S``) going left → right from the first to the second;
    four styles sit at the corners (top-left, top-right, bottom-left, bottom-right) and mix
    bilinearly.
    """
    if len(corners) not in (2, 4):
        raise ConfigError(f"grid needs 2 or 4 style names, got {len(corners)}")
    if size < 2:
        raise ConfigError(f"grid_size must be >= 2, got {size}")
    basis = np.stack([one_hot(styles, str(name)) for name in corners])
    t = np.linspace(0.0, 1.0, size, dtype=np.float32)
    if len(corners) == 2:
        row = (1 - t)[:, None] * basis[0] + t[:, None] * basis[1]
        return row[None].astype(np.float32)
    y, x = t[:, None, None], t[None, :, None]
    top = (1 - x) * basis[0] + x * basis[1]
    bottom = (1 - x) * basis[2] + x * basis[3]
    return ((1 - y) * top + y * bottom).astype(np.float32)
