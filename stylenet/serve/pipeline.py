"""Stylize one picture with any :class:`~stylenet.serve.stylizer.Stylizer`: size limits,
colour preservation and style strength applied the same way for every backend."""

from __future__ import annotations

import torch

from stylenet.data.color import blend_strength, transfer_luminance
from stylenet.data.images import require_min_size
from stylenet.errors import ConfigError
from stylenet.nn.transformer import MIN_SIDE
from stylenet.serve.stylizer import Stylizer


def stylize_image(
    stylizer: Stylizer,
    image: torch.Tensor,
    style_weights: torch.Tensor | None = None,
    preserve_color: bool = False,
    strength: float = 1.0,
) -> torch.Tensor:
    """``3×H×W`` RGB in [0, 1] → stylized ``3×H×W`` in [0, 1].

    ``style_weights``: ``S`` (or ``1×S``) blend over the model's styles, ``None`` for the only
    or first style. ``preserve_color`` keeps the photo's colours (luminance-only transfer,
    Gatys et al. 2016); ``strength`` in [0, 1] interpolates photo → full style.
    """
    if not 0.0 <= strength <= 1.0:
        raise ConfigError(f"strength must be in [0, 1], got {strength}")
    require_min_size(image, MIN_SIDE)
    weights = None if style_weights is None else style_weights.reshape(1, -1).float()
    stylized = stylizer(image.unsqueeze(0) * 255.0, weights)[0].div(255.0).clamp(0, 1)
    if preserve_color:
        stylized = transfer_luminance(stylized, image)
    if strength < 1.0:
        stylized = blend_strength(stylized, image, strength)
    return stylized
