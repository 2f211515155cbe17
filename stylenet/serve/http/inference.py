"""The server's one door to the Stylizer backends.

Every inference of the HTTP and live routes calls :func:`stylize_array` here, and models are
opened by :func:`open_model`; nothing else in :mod:`stylenet.serve.http` touches the
pipeline, so this is the one file to change when the backend API changes.
Images are NumPy ``H×W×3`` uint8 RGB in and out.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


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


def stylize_array(
    stylizer: Any,
    image: np.ndarray,
    *,
    style_weights: np.ndarray | None = None,
    preserve_color: bool = False,
    strength: float = 1.0,
    tile_size: int = 0,
) -> np.ndarray:
    """``H×W×3`` uint8 RGB → stylized ``H×W×3`` uint8 RGB (a new array).

    ``style_weights``: ``S`` float32 over the model's styles (``None``: the first style);
    the rest as :func:`stylenet.serve.pipeline.stylize_array` (``tile_size`` 0 = tile only
    very large images, -1 = never). NumPy throughout: no torch for ONNX models.
    """
    from stylenet.serve.pipeline import stylize_array as pipeline_stylize

    return pipeline_stylize(
        stylizer,
        np.asarray(image, dtype=np.uint8),
        style_weights=style_weights,
        preserve_color=preserve_color,
        strength=strength,
        tile_size=tile_size,
    )
