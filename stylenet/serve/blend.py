"""Style choice and blending for multi-style networks (Dumoulin, Shlens and Kudlur 2017).

A blend is a row of ``S`` non-negative weights over the model's styles, normalised to sum
to 1; the network mixes the styles' conditional instance-norm (γ, β) with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from omegaconf import DictConfig, OmegaConf

from stylenet.errors import ConfigError


def parse_blend(value: object) -> Mapping[str, float] | None:
    """A ``blend=`` option (``{a: 0.7, b: 0.3}``, any mapping) → a plain dict; ``None`` stays."""
    if value is None:
        return None
    if isinstance(value, DictConfig):
        value = OmegaConf.to_container(value)
    if not isinstance(value, Mapping):
        raise ConfigError(f'blend must look like "{{starry_night: 0.7, wave: 0.3}}", got {value!r}')
    return {str(name): weight for name, weight in value.items()}


def one_hot(styles: Sequence[str], name: str) -> torch.Tensor:
    """``S`` weights selecting the style ``name``."""
    return blend_weights(styles, {name: 1.0})


def blend_weights(styles: Sequence[str], blend: Mapping[str, float]) -> torch.Tensor:
    """``{name: weight}`` → normalised ``S`` weights; unknown names, negative or all-zero
    weights raise :class:`ConfigError`."""
    unknown = [name for name in blend if name not in styles]
    if unknown:
        raise ConfigError(
            f"unknown style(s) {', '.join(map(str, unknown))}; this model has: {', '.join(styles)}"
        )
    weights = torch.zeros(len(styles))
    for name, value in blend.items():
        try:
            weight = float(value)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"blend weight of {name} must be a number, got {value!r}") from error
        if weight < 0 or weight != weight:
            raise ConfigError(f"blend weights must be >= 0, got {name}: {value}")
        weights[styles.index(name)] += weight
    total = float(weights.sum())
    if total <= 0:
        raise ConfigError("blend weights are all zero; give at least one style a positive weight")
    return weights / total


def choose_weights(
    styles: Sequence[str], style: str | None = None, blend: Mapping[str, float] | None = None
) -> torch.Tensor | None:
    """The ``S`` weights for ``style=`` or ``blend=`` (not both); ``None`` = the first style."""
    if style is not None and blend is not None:
        raise ConfigError("give either style= or blend=, not both")
    if blend is not None:
        return blend_weights(styles, blend)
    if style is not None:
        return one_hot(styles, str(style))
    return None


def interpolation_grid(styles: Sequence[str], corners: Sequence[str], size: int) -> torch.Tensor:
    """``size×size×S`` (or ``1×size×S``) blend weights between 2 or 4 corner styles (Dumoulin et al. 2017, Fig. 7).

    Two styles give one row (``1×size×S``) going left → right from the first to the second;
    four styles sit at the corners (top-left, top-right, bottom-left, bottom-right) and mix
    bilinearly.
    """
    if len(corners) not in (2, 4):
        raise ConfigError(f"grid needs 2 or 4 style names, got {len(corners)}")
    if size < 2:
        raise ConfigError(f"grid_size must be >= 2, got {size}")
    basis = torch.stack([one_hot(styles, str(name)) for name in corners])
    t = torch.linspace(0, 1, size)
    if len(corners) == 2:
        row = (1 - t)[:, None] * basis[0] + t[:, None] * basis[1]
        return row[None]
    y, x = t[:, None, None], t[None, :, None]
    top = (1 - x) * basis[0] + x * basis[1]
    bottom = (1 - x) * basis[2] + x * basis[3]
    return (1 - y) * top + y * bottom
