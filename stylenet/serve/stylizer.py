"""The stylizer contract every backend (PyTorch checkpoint, ONNX Runtime) implements."""

from __future__ import annotations

from typing import Any, Protocol

import torch


class Stylizer(Protocol):
    """A trained style network ready for inference.

    ``styles``: the style names (S of them; the columns of ``style_weights``).
    ``facts``: how the network was trained (steps, losses, style images…; may be empty).
    ``__call__(images, style_weights)``: ``N×3×H×W`` float32 RGB in [0, 255] (``H, W >= 32``)
    and ``N×S`` blend rows (``None`` = the only style) → ``N×3×H×W`` float32 in [0, 255].
    """

    styles: list[str]
    facts: dict[str, Any]

    def __call__(
        self, images: torch.Tensor, style_weights: torch.Tensor | None = None
    ) -> torch.Tensor: ...
