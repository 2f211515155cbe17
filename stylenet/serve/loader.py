"""Open any trained model as a :class:`~stylenet.serve.stylizer.Stylizer` by its path."""

from __future__ import annotations

import os
from pathlib import Path

from stylenet.errors import ModelFileError
from stylenet.serve.stylizer import Stylizer

CHECKPOINT_SUFFIXES = (".ckpt", ".pt", ".pth")
ONNX_SUFFIXES = (".onnx",)


def load_stylizer(
    model: str | os.PathLike[str],
    device: str = "auto",
    precision: str = "fp32",
    providers: list[str] | None = None,
) -> Stylizer:
    """A stylizer for a training checkpoint (``.ckpt``) or an exported ONNX model (``.onnx``).

    ``device``/``precision`` apply to checkpoints (PyTorch), ``providers`` to ONNX Runtime
    (``None``: the best available, TensorRT > CUDA > CPU).
    """
    path = Path(model).expanduser()
    suffix = path.suffix.lower()
    if suffix in CHECKPOINT_SUFFIXES:
        from stylenet.serve.torch_backend import TorchStylizer

        return TorchStylizer.from_checkpoint(path, device=device, precision=precision)
    if suffix in ONNX_SUFFIXES:
        from stylenet.serve.runtime import OnnxStylizer

        return OnnxStylizer(path, providers=providers)
    raise ModelFileError(
        f"unknown model {model!r}: give a training checkpoint (.ckpt) or an exported model (.onnx)"
    )
