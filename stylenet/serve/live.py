"""The real-time loop behind ``stylenet-webcam``: frame source → stylize → sink, staying live.

A *source* is any iterable of ``H×W×3`` uint8 BGR frames (a camera, a video file, a test
generator); a *sink* is a callable taking each output frame that may return ``True`` to
stop (a preview window on q/Esc, a video writer, ``list.append`` in tests). When frames
arrive faster than they are stylized, a grabber thread keeps only the newest one, so the
output shows the present instead of falling further and further behind.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from stylenet.errors import VideoError

Sink = Callable[[np.ndarray], "bool | None"]
_POLL_S = 0.05


class LatestFrameGrabber:
    """Reads ``source`` in a background thread and hands out only the newest frame.

    :meth:`latest` waits for a frame not handed out before; frames that arrive in between
    are dropped (counted in :attr:`grabbed`). An exception in the source is re-raised there.
    """

    def __init__(self, source: Iterable[np.ndarray]) -> None:
        self._source = iter(source)
        self._ready = threading.Condition()
        self._frame: np.ndarray | None = None
        self._finished = False
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self.grabbed = 0
        self._thread = threading.Thread(target=self._run, name="frame-grabber", daemon=True)

    def start(self) -> LatestFrameGrabber:
        """Start reading in the background; returns ``self``."""
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            for frame in self._source:
                with self._ready:
                    self._frame = frame
                    self.grabbed += 1
                    self._ready.notify_all()
                if self._stop.is_set():
                    break
        except Exception as error:  # handed to the consumer thread
            self._error = error
        finally:
            with self._ready:
                self._finished = True
                self._ready.notify_all()

    def latest(self, timeout: float | None = None) -> np.ndarray | None:
        """The newest unseen frame; ``None`` when the source has ended (or on ``timeout``)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._ready:
            while self._frame is None and not self._finished:
                if deadline is not None and time.monotonic() >= deadline:
                    return None
                self._ready.wait(_POLL_S)  # short waits keep Ctrl-C responsive
            if self._error is not None and self._frame is None:
                raise self._error
            frame, self._frame = self._frame, None
            return frame

    @property
    def ended(self) -> bool:
        """True once the source is exhausted (or failed)."""
        with self._ready:
            return self._finished

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the thread to stop after its current read and wait for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


@dataclass
class LiveStats:
    """What a live run did: frames read and shown, wall time, and why it stopped."""

    grabbed: int = 0
    processed: int = 0
    seconds: float = 0.0
    stopped_by: str = "end"  # end | max_frames | duration | sink | interrupt

    @property
    def dropped(self) -> int:
        return max(0, self.grabbed - self.processed)

    @property
    def fps(self) -> float:
        return self.processed / self.seconds if self.seconds > 0 else 0.0


def run_live(
    stylize: Callable[[np.ndarray], np.ndarray],
    source: Iterable[np.ndarray],
    sink: Sink,
    *,
    max_frames: int | None = None,
    duration: float | None = None,
    drop_frames: bool = True,
    show_fps: bool = True,
    first_frame_timeout: float = 10.0,
    clock: Callable[[], float] = time.monotonic,
) -> LiveStats:
    """Stylize frames from ``source`` into ``sink`` until the source ends or a stop condition.

    ``stylize``: ``H×W×3`` uint8 BGR → ``H'×W'×3`` uint8 BGR (e.g. a
    :class:`~stylenet.serve.frames.FrameStylizer`). Stops after ``max_frames`` outputs,
    after ``duration`` seconds, when ``sink`` returns ``True``, or on Ctrl-C (not an error).
    ``drop_frames``: always take the newest frame (live); ``False`` processes every frame.
    ``show_fps`` draws the processing rate on each output frame. A source that delivers no
    first frame within ``first_frame_timeout`` seconds raises :class:`VideoError`. ``clock``
    (seconds) measures ``duration``, the rate and the run's time (injectable for tests).
    """
    stats = LiveStats()
    start = clock()
    deadline = None if duration is None else start + float(duration)
    meter = FpsMeter(clock=clock)
    grabber = LatestFrameGrabber(source) if drop_frames else None
    frames = (
        _newest_frames(grabber, deadline, first_frame_timeout, clock)
        if grabber
        else _all_frames(source, stats)
    )
    try:
        if grabber is not None:
            grabber.start()
        stats.stopped_by = _loop(
            stylize, frames, sink, stats, meter, max_frames, deadline, show_fps, clock
        )
    except KeyboardInterrupt:
        stats.stopped_by = "interrupt"
    finally:
        if grabber is not None:
            grabber.stop()
            stats.grabbed = grabber.grabbed
        stats.seconds = clock() - start
    return stats


def _loop(
    stylize: Callable[[np.ndarray], np.ndarray],
    frames: Iterator[np.ndarray],
    sink: Sink,
    stats: LiveStats,
    meter: FpsMeter,
    max_frames: int | None,
    deadline: float | None,
    show_fps: bool,
    clock: Callable[[], float],
) -> str:
    """Process until a stop condition; returns its name."""
    for frame in frames:
        out = stylize(frame)
        meter.tick()
        if show_fps:
            out = draw_fps(out, meter.fps)
        stats.processed += 1
        if sink(out) is True:
            return "sink"
        if max_frames is not None and stats.processed >= max_frames:
            return "max_frames"
        if deadline is not None and clock() >= deadline:
            return "duration"
    return "duration" if deadline is not None and clock() >= deadline else "end"


def _newest_frames(
    grabber: LatestFrameGrabber,
    deadline: float | None,
    first_frame_timeout: float,
    clock: Callable[[], float],
) -> Iterator[np.ndarray]:
    """The grabber's newest frames until the source ends or the deadline (on ``clock``)
    passes."""
    waited_for_first = False
    while deadline is None or clock() < deadline:
        wait = None if deadline is None else max(0.0, deadline - clock())
        if not waited_for_first:
            wait = first_frame_timeout if wait is None else min(wait, first_frame_timeout)
        frame = grabber.latest(timeout=wait)
        live = deadline is None or clock() < deadline
        if frame is None and not waited_for_first and not grabber.ended and live:
            raise VideoError(
                f"no frame arrived within {first_frame_timeout:g} s: the camera may be "
                f"in use by another program or not delivering video"
            )
        if frame is None:
            return
        waited_for_first = True
        yield frame


def _all_frames(source: Iterable[np.ndarray], stats: LiveStats) -> Iterator[np.ndarray]:
    for frame in source:
        stats.grabbed += 1
        yield frame


class FpsMeter:
    """Frames per second, exponentially smoothed over roughly the last ten frames."""

    def __init__(self, smoothing: float = 0.9, *, clock: Callable[[], float] = time.monotonic):
        self.smoothing = smoothing
        self.clock = clock
        self.fps = 0.0
        self._last: float | None = None

    def tick(self) -> None:
        now = self.clock()
        if self._last is not None and now > self._last:
            rate = 1.0 / (now - self._last)
            self.fps = (
                rate if self.fps == 0 else self.smoothing * self.fps + (1 - self.smoothing) * rate
            )
        self._last = now


def draw_fps(frame: np.ndarray, fps: float) -> np.ndarray:
    """A copy of ``frame`` (``H×W×3`` uint8) with ``"12.3 fps"`` in the top-left corner."""
    out = frame.copy()
    text = f"{fps:.1f} fps"
    scale = max(0.4, min(out.shape[:2]) / 480)
    origin = (8, int(8 + 22 * scale))
    thickness = max(1, round(2 * scale))
    cv2.putText(out, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness + 2)
    cv2.putText(out, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness)
    return out
