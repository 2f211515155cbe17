"""How the server opens its models: ONNX Runtime sessions tuned for a shared CPU, checkpoints
through :func:`stylenet.serve.loader.load_stylizer`. Inference itself is
:func:`stylenet.serve.pipeline.stylize_array` (NumPy ``H×W×3`` uint8 RGB in and out).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def open_model(
    path: Path, *, providers: Sequence[str] | None = None, intra_op_threads: int = 0
) -> Any:
    """A :class:`~stylenet.serve.stylizer.Stylizer` for an ``.onnx`` or ``.ckpt`` file.

    ONNX sessions run with idle-thread spinning off: the workers share the CPU with the
    HTTP loop (and, on small machines, with other work).
    """
    if path.suffix.lower() == ".onnx":
        from stylenet.serve.runtime import OnnxStylizer

        return OnnxStylizer(
            path,
            providers=None if providers is None else list(providers),
            intra_op_threads=intra_op_threads,
            spinning=False,
        )
    from stylenet.serve.loader import load_stylizer

    return load_stylizer(path)
