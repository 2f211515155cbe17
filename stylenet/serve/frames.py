"""Stylize a stream of video frames (OpenCV's ``H×W×3`` uint8 BGR) one at a time.

Shared by video files and the webcam: resize to the processing size, stylize with
:func:`~stylenet.serve.pipeline.stylize_array` (so colour preservation and strength behave
exactly as for still images), stabilise over time, and resize back to the frame's size.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from stylenet.errors import ConfigError, VideoError
from stylenet.nn.limits import MIN_SIDE
from stylenet.serve.pipeline import stylize_array
from stylenet.serve.shared_statistics import supports_statistics, thumbnail
from stylenet.serve.stylizer import Stylizer
from stylenet.serve.temporal import DEFAULT_STRENGTH, TemporalStabilizer
from stylenet.styles import normalize_weights

# Frames are normalised with the instance-norm statistics of a thumbnail this size: less
# flicker at equal temporal= than each frame's own (docs/BENCHMARKS.md, video flicker).
FRAME_THUMBNAIL = 128


def processing_size(height: int, width: int, size: int | None) -> tuple[int, int]:
    """``(h, w)`` with the longest side at most ``size`` (never upscaled; ``None`` = as is)."""
    if size is not None and int(size) <= 0:
        raise ConfigError(f"size must be a positive number of pixels (longest side), got {size}")
    factor = 1.0 if size is None else min(1.0, int(size) / max(height, width))
    new_h, new_w = max(1, round(height * factor)), max(1, round(width * factor))
    if min(new_h, new_w) < MIN_SIDE:
        raise VideoError(
            f"frames of {height}×{width} would be processed at {new_h}×{new_w}; the shorter "
            f"side must be at least {MIN_SIDE} px (use a larger size= or a larger video)"
        )
    return new_h, new_w


def make_stabilizer(temporal: float | TemporalStabilizer) -> TemporalStabilizer:
    """A stabiliser from a strength in [0, 1] (0 = off) or an already configured one."""
    if isinstance(temporal, TemporalStabilizer):
        return temporal
    return TemporalStabilizer(strength=float(temporal))


class FrameStylizer:
    """Callable ``H×W×3`` uint8 BGR frame → stylized ``H×W×3`` uint8 BGR frame (same size).

    ``size``: longest side the network sees (``None`` = the frame's own size); the result is
    resized back. ``style_weights``: ``S`` blend over the model's styles. ``temporal``: the
    stabiliser's strength (0 = off) or a :class:`TemporalStabilizer`; it keeps state between
    calls, so use one instance per stream (or call :meth:`reset`). ``statistics_side``:
    stylizers with shared-statistics support normalise each frame with the statistics of its
    thumbnail of this longest side (``None``: the frame's own).
    """

    def __init__(
        self,
        stylizer: Stylizer,
        *,
        size: int | None = None,
        style_weights: Sequence[float] | np.ndarray | None = None,
        preserve_color: bool = False,
        strength: float = 1.0,
        temporal: float | TemporalStabilizer = DEFAULT_STRENGTH,
        statistics_side: int | None = FRAME_THUMBNAIL,
    ) -> None:
        if not 0.0 <= float(strength) <= 1.0:
            raise ConfigError(f"strength must be in [0, 1], got {strength}")
        self.stylizer = stylizer
        self.size = None if size is None else int(size)
        self.style_weights = (
            None
            if style_weights is None
            else normalize_weights(
                style_weights, num_styles=len(stylizer.styles), what="style_weights"
            )
        )
        self.preserve_color = bool(preserve_color)
        self.strength = float(strength)
        self.stabilizer = make_stabilizer(temporal)
        if statistics_side is not None and int(statistics_side) < MIN_SIDE:
            raise ConfigError(f"statistics_side must be >= {MIN_SIDE} px, got {statistics_side}")
        self.statistics_side = None if statistics_side is None else int(statistics_side)

    def reset(self) -> None:
        """Forget the temporal state (new scene or new source)."""
        self.stabilizer.reset()

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        if frame.ndim != 3 or frame.shape[2] != 3:
            raise VideoError(f"expected H×W×3 colour frames, got shape {tuple(frame.shape)}")
        height, width = frame.shape[:2]
        small = _resize(frame, processing_size(height, width, self.size))
        stylized = self._stylize(small)
        stable = self.stabilizer(stylized, small)
        return _resize(stable, (height, width))

    def _stylize(self, frame: np.ndarray) -> np.ndarray:
        """``h×w×3`` uint8 BGR → ``h×w×3`` uint8 BGR."""
        rgb = np.ascontiguousarray(frame[..., ::-1])
        statistics = None
        if self.statistics_side is not None and supports_statistics(self.stylizer):
            batch = rgb.transpose(2, 0, 1)[None]
            weights = None if self.style_weights is None else self.style_weights.reshape(1, -1)
            small = thumbnail(batch, self.statistics_side)
            statistics = np.asarray(self.stylizer.statistics(small, weights))
        out = stylize_array(
            self.stylizer,
            rgb,
            statistics=statistics,
            style_weights=self.style_weights,
            preserve_color=self.preserve_color,
            strength=self.strength,
        )
        return np.ascontiguousarray(out[..., ::-1])


def _resize(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize ``H×W×C`` to ``size`` = ``(h, w)`` (area when shrinking, linear when growing)."""
    height, width = frame.shape[:2]
    if (height, width) == tuple(size):
        return frame
    shrinking = size[0] * size[1] < height * width
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(frame, (size[1], size[0]), interpolation=interpolation)
