"""The stylizer contract every backend (ONNX Runtime, PyTorch checkpoint) implements.

NumPy in, NumPy out, so that the ONNX path needs no torch; the PyTorch backend converts
inside. The same layout as the ONNX model contract (:mod:`stylenet.contract`).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from stylenet.errors import ConfigError, ImageError


class Stylizer(Protocol):
    """A trained style network ready for inference.

    ``styles``: the style names (S of them; the columns of ``style_weights``).
    ``facts``: how the network was trained (steps, losses, style images…; may be empty).
    ``__call__(images, style_weights)``: ``N×3×H×W`` float32 RGB in [0, 255] (``H, W >= 32``)
    and ``N×S`` (or ``1×S``) float32 blend rows (``None`` = the first style) → ``N×3×H×W``
    float32 RGB in [0, 255], a new array.

    Optional (shared-statistics tiling, :mod:`stylenet.serve.shared_statistics`): a
    ``statistics_channels`` attribute (the packed layout, ``None`` = not supported), a
    ``statistics(images, style_weights, *, statistics=None) -> N×K`` method and a
    ``statistics=`` keyword of ``__call__``. Stylizers without them tile as before.
    """

    styles: list[str]
    facts: dict[str, Any]

    def __call__(
        self, images: np.ndarray, style_weights: np.ndarray | None = None
    ) -> np.ndarray: ...


class StatisticsStylizer(Stylizer, Protocol):
    """A :class:`Stylizer` with the optional shared-statistics part: ``statistics_channels``
    (the packed layout, ``None`` = not supported) and ``statistics(images, style_weights, *,
    statistics=None)`` → packed ``N×K`` float32 (:mod:`stylenet.nn.statistics`)."""

    statistics_channels: list[int] | None

    def statistics(
        self,
        images: np.ndarray,
        style_weights: np.ndarray | None = None,
        *,
        statistics: np.ndarray | None = None,
    ) -> np.ndarray: ...


def check_batch(images: np.ndarray, min_side: int) -> np.ndarray:
    """``images`` as a C-contiguous float32 ``N×3×H×W`` array; :class:`ImageError` otherwise."""
    if not isinstance(images, np.ndarray) or images.ndim != 4 or images.shape[1] != 3:
        shape = getattr(images, "shape", type(images).__name__)
        raise ImageError(f"expected N×3×H×W RGB images (a NumPy array), got {shape}")
    if min(images.shape[-2:]) < min_side:
        raise ImageError(
            f"image is too small: {tuple(images.shape[-2:])}; both sides must be "
            f">= {min_side} pixels (upscale it first)"
        )
    return np.ascontiguousarray(images, dtype=np.float32)


def weight_rows(style_weights: np.ndarray | None, styles: list[str], batch: int) -> np.ndarray:
    """``N×S`` float32 blend rows for ``batch`` images; ``None`` = one-hot on the first style.

    ``style_weights`` may be ``S``, ``1×S`` (broadcast) or ``N×S``; they are used as given
    (normalise user input with :mod:`stylenet.styles` first).
    """
    count = len(styles)
    if style_weights is None:
        weights = np.zeros((batch, count), dtype=np.float32)
        weights[:, 0] = 1.0
        return weights
    given = np.asarray(style_weights, dtype=np.float32)
    rows = given.size // count if count else 0
    if given.size % count or rows not in (1, batch):
        raise ConfigError(
            f"style_weights of shape {tuple(given.shape)} do not fit {batch} "
            f"image(s) and {count} style(s) {styles}; give one weight per style"
        )
    return np.ascontiguousarray(np.broadcast_to(given.reshape(rows, count), (batch, count)))
