"""The Python API: ``stylenet.stylize``, ``stylenet.load`` and ``stylenet.models`` (no torch).

    import stylenet
    picture = stylenet.stylize("photo.jpg", model="starry_night")   # a PIL image
    picture.save("starry.jpg")

Everything here runs on the base install (ONNX Runtime, NumPy, Pillow); a ``.ckpt`` model
needs the training extra. Loaded models are kept (a few of them), so calling ``stylize`` in
a loop loads each model once; ``load`` returns the reusable stylizer itself.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, overload

import numpy as np
from PIL import Image

from stylenet.arbitrary_contract import CARD_FILE as ARBITRARY_CARD
from stylenet.arbitrary_contract import SHIPPED_NAME as ARBITRARY
from stylenet.data.image_files import array_to_pil, check_rgb_array, open_image, resize_array
from stylenet.errors import ConfigError, ImageError
from stylenet.serve.stylizer import Stylizer

DEFAULT_MODEL = "starry_night"
_LOADED_MODELS = 8  # stylizers kept between calls

ImageLike = TypeVar("ImageLike", Image.Image, np.ndarray)


@dataclass(frozen=True)
class ShippedModel:
    """A model that ships with stylenet: ``name`` (what ``model=`` takes), ``styles`` (empty
    for ``arbitrary``: any painting), ``kind`` (``single`` | ``multi`` | ``arbitrary``) and
    its model ``card`` (how it was trained and checked, as a dict)."""

    name: str
    styles: list[str]
    kind: str
    card: dict[str, Any] = field(repr=False)


def models() -> list[ShippedModel]:
    """The shipped models, sorted by name, with their cards."""
    import json

    from stylenet.model_card import ModelCard, card_path
    from stylenet.resources import shipped_models_dir
    from stylenet.serve.loader import shipped_models

    found = []
    for name in shipped_models():
        card = ModelCard.read(card_path(shipped_models_dir() / f"{name}.onnx"))
        kind = "multi" if card.multi_style else "single"
        found.append(ShippedModel(name, list(card.styles), kind, card.to_dict()))
    for arbitrary_card in sorted(shipped_models_dir().glob(f"*/{ARBITRARY_CARD}")):
        name = arbitrary_card.parent.name  # arbitrary, arbitrary_wide
        found.append(ShippedModel(name, [], "arbitrary", json.loads(arbitrary_card.read_text())))
    return sorted(found, key=lambda m: m.name)


def load(
    model: str | os.PathLike[str] = DEFAULT_MODEL,
    *,
    painting: str | os.PathLike[str] | Image.Image | np.ndarray | None = None,
    painting_size: int | None = None,
    transform: str = "wct",
    providers: Sequence[str] | None = None,
) -> Stylizer:
    """A reusable stylizer: a shipped model's name, an ``.onnx`` file or a ``.ckpt`` (training
    extra); with ``painting`` (a file, PIL image or ``H×W×3`` uint8 array), the arbitrary-style
    network for that painting (``model`` is then ignored unless it names an arbitrary-style
    folder). ``providers``: ONNX Runtime's, ``None`` = the best available."""
    from stylenet.serve.loader import load_stylizer

    if painting is not None:
        folder = None if str(model) in (DEFAULT_MODEL, ARBITRARY) else model
        return load_stylizer(
            folder,
            providers=None if providers is None else list(providers),
            painting=painting,
            painting_size=painting_size,
            transform=transform,
        )
    return _load_cached(str(model), None if providers is None else tuple(providers))


@functools.lru_cache(maxsize=_LOADED_MODELS)
def _load_cached(model: str, providers: tuple[str, ...] | None) -> Stylizer:
    from stylenet.serve.loader import load_stylizer

    return load_stylizer(model, providers=None if providers is None else list(providers))


@overload
def stylize(
    image: str | os.PathLike[str],
    model: str | os.PathLike[str] | Stylizer = ...,
    *,
    painting: str | os.PathLike[str] | Image.Image | np.ndarray | None = ...,
    style: str | None = ...,
    styles: Mapping[str, float] | None = ...,
    strength: float = ...,
    preserve_color: bool = ...,
    size: int | None = ...,
    tile_size: int = ...,
    painting_size: int | None = ...,
    transform: str = ...,
    providers: Sequence[str] | None = ...,
) -> Image.Image: ...


@overload
def stylize(
    image: ImageLike,
    model: str | os.PathLike[str] | Stylizer = ...,
    *,
    painting: str | os.PathLike[str] | Image.Image | np.ndarray | None = ...,
    style: str | None = ...,
    styles: Mapping[str, float] | None = ...,
    strength: float = ...,
    preserve_color: bool = ...,
    size: int | None = ...,
    tile_size: int = ...,
    painting_size: int | None = ...,
    transform: str = ...,
    providers: Sequence[str] | None = ...,
) -> ImageLike: ...


def stylize(
    image: str | os.PathLike[str] | Image.Image | np.ndarray,
    model: str | os.PathLike[str] | Stylizer = DEFAULT_MODEL,
    *,
    painting: str | os.PathLike[str] | Image.Image | np.ndarray | None = None,
    style: str | None = None,
    styles: Mapping[str, float] | None = None,
    strength: float = 1.0,
    preserve_color: bool = False,
    size: int | None = None,
    tile_size: int = 0,
    painting_size: int | None = None,
    transform: str = "wct",
    providers: Sequence[str] | None = None,
) -> Image.Image | np.ndarray:
    """Stylize one picture and return the same kind: a path or PIL image gives a PIL image,
    an ``H×W×3`` uint8 RGB array gives an array (the input is never modified).

    ``model``: a shipped name (``stylenet.models()``), an ``.onnx``/``.ckpt`` path or a
    stylizer from :func:`load`; ``painting``: any painting, for the arbitrary-style network
    (no training). ``style`` picks one style of a multi-style model, ``styles`` blends them
    (``{"starry_night": 0.7, "the_scream": 0.3}``, normalised). ``strength`` in [0, 1]
    (0 = the photo), ``preserve_color`` keeps the photo's colours, ``size`` resizes the
    picture's longest side first, ``tile_size`` as for ``stylenet-stylize`` (0 = automatic).
    """
    from stylenet.serve.blend import choose_weights
    from stylenet.serve.pipeline import stylize_array

    pixels, as_array = _pixels(image)
    if size is not None:
        pixels = resize_array(pixels, max_side=int(size))
    if isinstance(model, (str, os.PathLike)):
        stylizer = load(
            model,
            painting=painting,
            painting_size=painting_size,
            transform=transform,
            providers=providers,
        )
    elif painting is not None:
        raise ConfigError("give painting= with a model name, not with a loaded stylizer")
    else:
        stylizer = model
    weights = choose_weights(stylizer.styles, style, None if styles is None else dict(styles))
    out = stylize_array(
        stylizer,
        pixels,
        style_weights=weights,
        strength=strength,
        preserve_color=preserve_color,
        tile_size=tile_size,
    )
    return out if as_array else array_to_pil(out)


def _pixels(image: str | os.PathLike[str] | Image.Image | np.ndarray) -> tuple[np.ndarray, bool]:
    """``(H×W×3 uint8 RGB, whether the caller gave an array)``."""
    if isinstance(image, np.ndarray):
        check_rgb_array(image)
        return image, True
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB")), False
    if isinstance(image, (str, os.PathLike)):
        return np.asarray(open_image(Path(image).expanduser())), False
    raise ImageError(
        f"image must be a file path, a PIL image or an H×W×3 uint8 array, got {type(image).__name__}"
    )
