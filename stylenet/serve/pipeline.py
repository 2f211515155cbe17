"""Stylize one picture with any :class:`~stylenet.serve.stylizer.Stylizer`: size limits,
colour preservation, style strength and tiling, written once for NumPy arrays and used by
every backend, still images, video frames and the live loop alike (no torch)."""

from __future__ import annotations

import numpy as np

from stylenet.data.color import (
    Moments,
    blend_strength,
    luminance_moments,
    transfer_luminance,
)
from stylenet.data.image_files import check_rgb_array, require_min_side
from stylenet.errors import ConfigError
from stylenet.nn.limits import MIN_SIDE
from stylenet.serve.layerwise import MIN_TILE
from stylenet.serve.shared_statistics import (
    AUTO,
    DEFAULT_ESTIMATE,
    DEFAULT_FRACTION,
    DEFAULT_MODE,
    LAYERWISE,
    check_fraction,
    check_mode,
    resolve_mode,
    shared_statistics,
    supports_statistics,
)
from stylenet.serve.stylizer import Stylizer
from stylenet.serve.tiling import DEFAULT_OVERLAP, DEFAULT_TILE, check_tiling, tiled_rows

AUTO_TILE_PIXELS = 1536 * 1536  # tile_size=0 tiles images with more pixels than this
NO_TILING = -1
STRIP_ROWS = 256  # colour options on a tiled picture are applied this many rows at a time


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


def stylize_array(
    stylizer: Stylizer,
    image: np.ndarray,
    *,
    style_weights: np.ndarray | None = None,
    preserve_color: bool = False,
    strength: float = 1.0,
    tile_size: int = 0,
    tile_overlap: int = DEFAULT_OVERLAP,
    tile_statistics: str = DEFAULT_MODE,
    tile_calibration: float = DEFAULT_FRACTION,
    statistics: np.ndarray | None = None,
) -> np.ndarray:
    """Stylize one picture: ``H×W×3`` uint8 RGB (values 0–255, ``H, W >= 32``) → a new
    ``H×W×3`` uint8 RGB array of the same size. The input is not modified.

    ``style_weights``: ``S`` (or ``1×S``) float32 blend over the model's styles, normalised
    (see :mod:`stylenet.styles`); ``None`` for the only or first style. ``preserve_color``
    keeps the photo's colours (luminance-only transfer, Gatys et al. 2016); ``strength`` in
    [0, 1] interpolates photo → full style. ``tile_size``: 0 = tile (1024 px tiles) only
    images above :data:`AUTO_TILE_PIXELS`, ``N > 0`` = tiles of N px whenever a side exceeds
    N, ``-1`` = never tile; ``tile_overlap``: feathered overlap in px
    (:mod:`stylenet.serve.tiling`); ``tile_statistics``: ``auto`` (``layerwise`` where the
    model can, else ``calibrated``), ``layerwise`` (the network run layer by layer over the
    tiles: a single pass's output; PyTorch models and format-3 ONNX exports), ``calibrated``
    (every tile uses the whole image's instance-norm statistics, from a thumbnail calibrated
    to full resolution with crops), ``thumbnail`` (from the thumbnail alone), ``exact``
    (accumulated over the full-resolution image) or ``tile`` (each tile's own), see
    :mod:`stylenet.serve.shared_statistics`; ``tile_calibration``: the share of the picture
    ``calibrated`` runs at full resolution (more: closer tones, slower). ``statistics``: packed instance-norm statistics
    to normalise with instead (e.g. a video frame's thumbnail's), used by stylizers that
    support them and ignored by the others (with ``auto``, given statistics are used rather
    than ``layerwise``).
    """
    check_mode(tile_statistics)
    check_fraction(tile_calibration)
    if not 0.0 <= float(strength) <= 1.0:
        raise ConfigError(f"strength must be in [0, 1], got {strength}")
    check_rgb_array(image)
    height, width = image.shape[:2]
    require_min_side(height, width, MIN_SIDE)
    stylizer, strength = feature_strength(stylizer, float(strength))
    tile = tile_size_for(height, width, tile_size, tile_overlap)
    weights = None if style_weights is None else np.asarray(style_weights, np.float32)
    weights = None if weights is None else weights.reshape(1, -1)
    if tile:
        return stylize_tiled_image(
            stylizer,
            image,
            style_weights=weights,
            tile=tile,
            overlap=tile_overlap,
            tile_statistics=tile_statistics,
            tile_calibration=tile_calibration,
            preserve_color=preserve_color,
            strength=float(strength),
            statistics=statistics,
        )
    batch = np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32)
    if statistics is not None and supports_statistics(stylizer):
        out = stylizer(batch, weights, statistics=statistics)  # type: ignore[call-arg]
    else:
        out = stylizer(batch, weights)
    return finish(out[0], image, preserve_color=preserve_color, strength=float(strength))


def feature_strength(stylizer: Stylizer, strength: float) -> tuple[Stylizer, float]:
    """``(stylizer, strength)`` to run: a stylizer with a ``with_strength(strength)`` method
    (the arbitrary-style network: it blends features, not pixels) gets the strength itself
    and the pixel blend is turned off (1.0); any other is returned as is."""
    bind = getattr(stylizer, "with_strength", None)
    if callable(bind):
        return bind(strength), 1.0
    return stylizer, strength


def finish(
    stylized: np.ndarray, photo: np.ndarray, *, preserve_color: bool, strength: float
) -> np.ndarray:
    """The network's ``3×H×W`` float output in [0, 255] → ``H×W×3`` uint8, with
    ``preserve_color`` and ``strength`` applied against the ``H×W×3`` uint8 ``photo``."""
    out = np.clip(np.asarray(stylized, dtype=np.float32).transpose(1, 2, 0) / 255.0, 0, 1)
    if preserve_color or strength < 1.0:
        out = apply_color_options(
            out,
            photo.astype(np.float32) / 255.0,
            preserve_color=preserve_color,
            strength=strength,
        )
    return to_uint8(out)


def apply_color_options(
    stylized: np.ndarray,
    photo: np.ndarray,
    *,
    preserve_color: bool,
    strength: float,
    moments: tuple[Moments, Moments] | None = None,
) -> np.ndarray:
    """``preserve_color`` then ``strength`` on ``H×W×3`` float arrays in [0, 1] (a new array
    when either applies); ``moments``: the whole picture's (stylized, photo) luma moments
    when the arrays are a strip of it."""
    if preserve_color:
        stylized_moments, content_moments = moments or (None, None)
        stylized = transfer_luminance(
            stylized, photo, stylized_moments=stylized_moments, content_moments=content_moments
        )
    if strength < 1.0:
        stylized = blend_strength(stylized, photo, strength)
    return stylized


def stylize_tiled_image(
    stylizer: Stylizer,
    image: np.ndarray,
    *,
    style_weights: np.ndarray | None,
    tile: int,
    overlap: int,
    tile_statistics: str,
    tile_calibration: float = DEFAULT_FRACTION,
    preserve_color: bool,
    strength: float,
    statistics: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`stylize_array`'s tiled path: ``H×W×3`` uint8 → a new ``H×W×3`` uint8
    (``tile_statistics=layerwise``: the rows come from the network run layer by layer over
    tiles of at least :data:`~stylenet.serve.layerwise.MIN_TILE` px,
    :mod:`stylenet.serve.layerwise`).

    Tiles are cut from the uint8 picture and finished rows written into the uint8 result as
    they come (:func:`~stylenet.serve.tiling.tiled_rows`), so besides the input and the output
    only a row of tiles is held in float. With ``preserve_color`` or ``strength < 1`` the
    stylized rows are kept in float16 first (the luminance transfer needs the whole picture's
    luma moments), then finished :data:`STRIP_ROWS` rows at a time."""
    height, width = image.shape[:2]
    source = image.transpose(2, 0, 1)[None]  # 1×3×H×W view of the uint8 picture, no copy
    if tile_statistics == AUTO and statistics is not None:
        tile_statistics = DEFAULT_ESTIMATE  # the caller's statistics, e.g. a video's
    tile_statistics = resolve_mode(stylizer, tile_statistics)
    if tile_statistics == LAYERWISE:
        run = getattr(stylizer, "layerwise_rows", None)
        if run is None:
            raise ConfigError(
                "tile_statistics=layerwise needs a PyTorch checkpoint or an ONNX model exported "
                "with its layer graphs (format 3); otherwise use tile_statistics=calibrated"
            )
        pieces = run(source, style_weights, tile=max(tile, MIN_TILE))
    else:
        shared = statistics
        if shared is None or not supports_statistics(stylizer):
            shared = shared_statistics(
                stylizer,
                source,
                style_weights,
                mode=tile_statistics,
                tile=tile,
                fraction=tile_calibration,
            )
        pieces = tiled_rows(
            stylizer, source, style_weights, tile=tile, overlap=overlap, statistics=shared
        )
    direct = not preserve_color and strength == 1.0
    out = np.empty((height, width, 3), dtype=np.uint8 if direct else np.float16)
    for y, rows in pieces:
        piece = np.clip(rows[0].transpose(1, 2, 0) / 255.0, 0, 1)
        out[y : y + piece.shape[0]] = to_uint8(piece) if direct else piece
    if direct:
        return out
    strips = range(0, height, STRIP_ROWS)
    moments = None
    if preserve_color:
        moments = (
            luminance_moments(out[y : y + STRIP_ROWS] for y in strips),
            luminance_moments(image[y : y + STRIP_ROWS] / np.float32(255) for y in strips),
        )
    result = np.empty((height, width, 3), dtype=np.uint8)
    for y in strips:
        stylized = out[y : y + STRIP_ROWS].astype(np.float32)
        photo = image[y : y + STRIP_ROWS].astype(np.float32) / 255.0
        stylized = apply_color_options(
            stylized, photo, preserve_color=preserve_color, strength=strength, moments=moments
        )
        result[y : y + STRIP_ROWS] = to_uint8(stylized)
    return result


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Float ``…`` array in [0, 1] → uint8 0–255 (rounded, clipped)."""
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)
