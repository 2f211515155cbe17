"""Stylize one picture with any :class:`~stylenet.serve.stylizer.Stylizer`: size limits,
colour preservation and style strength applied the same way for every backend."""

from __future__ import annotations

import torch

from stylenet.data.color import blend_strength, transfer_luminance
from stylenet.data.images import require_min_size
from stylenet.errors import ConfigError
from stylenet.nn.transformer import MIN_SIDE
from stylenet.serve.stylizer import Stylizer
from stylenet.serve.tiling import DEFAULT_OVERLAP, DEFAULT_TILE, check_tiling, stylize_tiled

AUTO_TILE_PIXELS = 1536 * 1536  # tile_size=0 tiles images with more pixels than this
NO_TILING = -1


def tile_size_for(height: int, width: int, tile_size: int, overlap: int) -> int:
    """The tile side to use for an ``height×width`` image, 0 for a single pass.

    ``tile_size``: 0 = automatic (:data:`DEFAULT_TILE` above :data:`AUTO_TILE_PIXELS`),
    ``-1`` = never, ``N > 0`` = N when a side exceeds N.
    """
    if tile_size == NO_TILING:
        return 0
    if tile_size < NO_TILING:
        raise ConfigError(f"tile_size must be -1 (off), 0 (automatic) or >= 32, got {tile_size}")
    tile = tile_size or DEFAULT_TILE
    check_tiling(tile, overlap)
    if tile_size == 0 and height * width <= AUTO_TILE_PIXELS:
        return 0
    return tile if max(height, width) > tile else 0


def stylize_image(
    stylizer: Stylizer,
    image: torch.Tensor,
    style_weights: torch.Tensor | None = None,
    preserve_color: bool = False,
    strength: float = 1.0,
    tile_size: int = 0,
    tile_overlap: int = DEFAULT_OVERLAP,
) -> torch.Tensor:
    """``3×H×W`` RGB in [0, 1] → stylized ``3×H×W`` in [0, 1].

    ``style_weights``: ``S`` (or ``1×S``) blend over the model's styles, ``None`` for the only
    or first style. ``preserve_color`` keeps the photo's colours (luminance-only transfer,
    Gatys et al. 2016); ``strength`` in [0, 1] interpolates photo → full style.
    ``tile_size``: 0 = tile (1024 px tiles) only images above ``AUTO_TILE_PIXELS`` (1536² px),
    ``N > 0`` = tiles of N px whenever a side exceeds N, ``-1`` = never tile;
    ``tile_overlap``: feathered overlap in px (see :mod:`stylenet.serve.tiling`).
    """
    if not 0.0 <= strength <= 1.0:
        raise ConfigError(f"strength must be in [0, 1], got {strength}")
    require_min_size(image, MIN_SIDE)
    tile = tile_size_for(image.shape[-2], image.shape[-1], tile_size, tile_overlap)
    weights = (
        None if style_weights is None else torch.as_tensor(style_weights).reshape(1, -1).float()
    )
    batch = image.unsqueeze(0) * 255.0
    if tile:
        out = stylize_tiled(stylizer, batch, weights, tile=tile, overlap=tile_overlap)
    else:
        out = stylizer(batch, weights)
    stylized = out[0].div(255.0).clamp(0, 1)
    if preserve_color:
        stylized = transfer_luminance(stylized, image)
    if strength < 1.0:
        stylized = blend_strength(stylized, image, strength)
    return stylized
