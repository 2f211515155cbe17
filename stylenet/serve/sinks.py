"""Where live frames go: a preview window, a video file, or both.

A sink is a callable taking one ``H×W×3`` uint8 BGR frame; returning ``True`` asks the live
loop to stop (see :func:`stylenet.serve.live.run_live`).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from stylenet.data.atomic import atomic_path
from stylenet.errors import VideoError
from stylenet.serve.video import open_writer, video_fourcc

_QUIT_KEYS = (ord("q"), ord("Q"), 27)  # q, Esc
_PROBE_WINDOW = "stylenet-probe"


def window_available() -> bool:
    """True if OpenCV can open a window here (a display and a GUI build of OpenCV)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    try:
        cv2.namedWindow(_PROBE_WINDOW, cv2.WINDOW_NORMAL)
        cv2.destroyWindow(_PROBE_WINDOW)
    except cv2.error:  # headless OpenCV build, or no display server
        return False
    return True


class PreviewWindow:
    """Shows frames in a resizable window; returns ``True`` on q / Esc or when closed."""

    def __init__(self, title: str = "stylenet (q or Esc to quit)") -> None:
        self.title = title
        cv2.namedWindow(title, cv2.WINDOW_NORMAL)

    def __call__(self, frame: np.ndarray) -> bool:
        cv2.imshow(self.title, frame)
        key = cv2.waitKey(1) & 0xFF
        closed = cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1
        return key in _QUIT_KEYS or closed

    def close(self) -> None:
        cv2.destroyWindow(self.title)
        cv2.waitKey(1)


class VideoFileSink:
    """Records frames to a video file, atomically (the file appears when closed).

    ``fps``: the file's frame rate; ``None`` = the rate the frames actually arrive at,
    measured over the first ``warmup`` frames (kept in memory until then), so a recording
    of a live run plays at real speed (``clock``: seconds, as ``time.monotonic``). Frames must
    all have the first frame's size.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        fps: float | None = None,
        warmup: int = 10,
        *,
        clock: Callable[[], float] = time.monotonic,
    ):
        video_fourcc(path)  # unknown extension: fail before the camera starts
        if fps is not None and float(fps) <= 0:
            raise VideoError(f"output fps must be > 0, got {fps}")
        self.path = Path(path).expanduser()
        self.fps = None if fps is None else float(fps)
        self.warmup = max(2, int(warmup))
        self.frames = 0
        self._atomic = atomic_path(self.path)
        self._partial = self._atomic.__enter__()
        self._pending: list[np.ndarray] = []
        self._times: list[float] = []
        self._clock = clock
        self._writer: cv2.VideoWriter | None = None

    def __call__(self, frame: np.ndarray) -> None:
        self.frames += 1
        if self._writer is not None:
            self._writer.write(frame)
            return
        self._pending.append(frame.copy())
        self._times.append(self._clock())
        if self.fps is not None or len(self._pending) >= self.warmup:
            self._flush()

    def _flush(self) -> None:
        fps = self.fps or _measured_fps(self._times)
        height, width = self._pending[0].shape[:2]
        self._writer = open_writer(self._partial, fps, height, width)
        for frame in self._pending:
            self._writer.write(frame)
        self._pending.clear()

    def close(self, keep: bool = True) -> Path | None:
        """Finish the file; returns its path, or ``None`` if nothing was recorded (or not ``keep``)."""
        if self._writer is None and self._pending:
            self._flush()
        if self._writer is not None:
            self._writer.release()
        if keep and self.frames:
            self._atomic.__exit__(None, None, None)
            return self.path
        discard = VideoError("recording discarded")
        self._atomic.__exit__(VideoError, discard, None)
        return None


def _measured_fps(times: list[float], fallback: float = 10.0) -> float:
    """Frames per second from arrival times (clamped to 1–120; ``fallback`` for one frame)."""
    if len(times) < 2 or times[-1] <= times[0]:
        return fallback
    return min(120.0, max(1.0, (len(times) - 1) / (times[-1] - times[0])))


def fan_out(*sinks: Callable[[np.ndarray], bool | None]) -> Callable[[np.ndarray], bool]:
    """One sink feeding several; asks to stop if any of them does."""

    def send(frame: np.ndarray) -> bool:
        return any([sink(frame) is True for sink in sinks])

    return send
