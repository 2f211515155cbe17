"""Open any trained model as a :class:`~stylenet.serve.stylizer.Stylizer` by its path."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from stylenet.arbitrary_contract import ENCODER_FILE as ARBITRARY_ENCODER
from stylenet.errors import ConfigError, ModelFileError
from stylenet.extras import require_training_extra
from stylenet.model_card import ModelCard, card_path
from stylenet.resources import shipped_models_dir
from stylenet.serve.stylizer import Stylizer

CHECKPOINT_SUFFIXES = (".ckpt", ".pt", ".pth")
ONNX_SUFFIXES = (".onnx",)


def load_stylizer(
    model: str | os.PathLike[str] | None,
    device: str = "auto",
    precision: str = "fp32",
    providers: list[str] | None = None,
    *,
    painting: str | os.PathLike[str] | Image.Image | np.ndarray | None = None,
    painting_size: int | None = None,
    transform: str = "wct",
) -> Stylizer:
    """A stylizer for a training checkpoint (``.ckpt``), an exported ONNX model (``.onnx``)
    or the short name of a shipped model (``starry_night``: ``exported/starry_night.onnx``);
    with ``painting`` (a file, PIL image or ``H×W×3`` uint8 array), the arbitrary-style
    network (``model``: its folder, ``None`` = the shipped one) for that painting, its
    statistics taken at longest side ``painting_size`` with ``transform`` (``wct`` | ``adain``).

    ``device``/``precision`` apply to checkpoints (PyTorch), ``providers`` to ONNX Runtime
    (``None``: the best available, TensorRT > CUDA > CPU).
    """
    if painting is not None:
        return _painting_stylizer(model, painting, painting_size, transform, providers)
    if model is None:
        raise ModelFileError(
            "no model given: a shipped name, a .ckpt or .onnx path, or a painting for the "
            "arbitrary-style network"
        )
    path = resolve_model(model)
    if path.is_dir() and (path / ARBITRARY_ENCODER).is_file():
        raise ConfigError(
            f"{path} is an arbitrary-style network: give the painting to imitate as well "
            "(painting=PATH)"
        )
    suffix = path.suffix.lower()
    if suffix in CHECKPOINT_SUFFIXES:
        require_training_extra(
            f"the PyTorch checkpoint {path.name}", alternative="use an exported .onnx model"
        )
        from stylenet.serve.torch_backend import TorchStylizer  # torch: only for checkpoints

        return TorchStylizer.from_checkpoint(path, device=device, precision=precision)
    if suffix in ONNX_SUFFIXES:
        from stylenet.serve.runtime import OnnxStylizer

        return OnnxStylizer(path, providers=providers)
    raise ModelFileError(
        f"unknown model {model!r}: give a training checkpoint (.ckpt) or an exported model (.onnx)"
    )


def _painting_stylizer(
    model: str | os.PathLike[str] | None,
    painting: str | os.PathLike[str] | Image.Image | np.ndarray,
    painting_size: int | None,
    transform: str,
    providers: list[str] | None,
) -> Stylizer:
    from stylenet.serve.arbitrary import DEFAULT_PAINTING_SIZE, painting_stylizer

    folder = None
    if model is not None:
        folder = Path(model).expanduser()
        shipped = shipped_models_dir() / folder.name
        if (
            not folder.exists()
            and str(model) == folder.name
            and (shipped / ARBITRARY_ENCODER).is_file()
        ):
            folder = shipped  # a shipped arbitrary-style network by name (model=arbitrary_wide)
        if not (folder.is_dir() and (folder / ARBITRARY_ENCODER).is_file()):
            raise ConfigError(
                f"painting= needs the arbitrary-style network, but model={model} is not one "
                f"(a folder with {ARBITRARY_ENCODER}); leave model= out for the shipped one"
            )
    return painting_stylizer(
        painting,
        model=folder,
        transform=transform,
        painting_size=painting_size or DEFAULT_PAINTING_SIZE,
        providers=providers,
    )


def shipped_models() -> list[str]:
    """Short names of the models in ``exported/`` (sorted)."""
    folder = shipped_models_dir()
    return sorted(p.stem for p in folder.glob("*.onnx") if p.stem.count(".") == 0)


def describe_shipped(name: str) -> str:
    """One line about shipped model ``name`` from its model card: name, network, training
    steps, file size and styles (``(no model card)`` if the card is missing or unreadable)."""
    try:
        card = ModelCard.read(card_path(shipped_models_dir() / f"{name}.onnx"))
    except ModelFileError:
        return f"{name:<18} (no model card)"
    styles, model = card.styles, card.model
    steps = "?" if card.steps is None else card.steps
    what = styles[0] if len(styles) == 1 else f"{len(styles)} styles: {', '.join(styles)}"
    network = f"width {model.get('width', '?')}, {model.get('num_res_blocks', '?')} res blocks"
    return f"{name:<18} {network:<24} {steps:>5} steps {card.file_size / 1e6:5.1f} MB  {what}"


def resolve_model(model: str | os.PathLike[str]) -> Path:
    """``model`` as a path; a bare name without a suffix that is not a file is a shipped model."""
    path = Path(model).expanduser()
    if path.suffix or path.exists() or len(path.parts) > 1:
        return path
    shipped = shipped_models_dir() / f"{path.name}.onnx"
    if shipped.is_file():
        return shipped
    names = ", ".join(shipped_models()) or "none installed"
    raise ModelFileError(
        f"no shipped model named {path.name!r} (shipped: {names}); or give a .ckpt or .onnx path"
    )
