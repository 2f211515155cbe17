from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from stylenet.errors import VideoError
from stylenet.serve import sinks
from stylenet.serve.frames import FrameStylizer
from stylenet.serve.live import LatestFrameGrabber, draw_fps, run_live
from stylenet.serve.sinks import VideoFileSink, fan_out, window_available
from tests.helpers.clock import FakeClock
from tests.serve.clips import read_clip, static_clip, tiny_stylizer

WAIT_S = 10.0  # bound on waits for the other thread (never reached when the code works)


def numbered_frames(count: int | None) -> Iterator[np.ndarray]:
    """Frames whose pixel values are their index (mod 256), as fast as they are read."""
    index = 0
    while count is None or index < count:
        yield frame(index)
        index += 1


def frame(index: int) -> np.ndarray:
    """Frame number ``index``: every pixel value is ``index`` (mod 256)."""
    return np.full((40, 48, 3), index % 256, np.uint8)


class Bursts:
    """A camera three times faster than the stylizer, in lock-step with it (no sleeps):
    the source releases three frames per stylize call, and each call returns only once the
    grabber has stored all three, so the two older ones of each burst are dropped."""

    def __init__(self, calls: int, burst: int = 3) -> None:
        self.calls, self.burst, self.total = 0, burst, burst * (calls + 1)
        self.stored = 0  # frames the grabber has stored (it asked for the next one)
        self.ready = threading.Condition()

    def source(self) -> Iterator[np.ndarray]:
        for index in range(self.total):
            with self.ready:
                self.stored = index
                self.ready.notify_all()
                self.ready.wait_for(lambda i=index: i < self.burst * (self.calls + 1), WAIT_S)
            yield frame(index)
        with self.ready:
            self.stored = self.total
            self.ready.notify_all()

    def stylize(self, image: np.ndarray) -> np.ndarray:
        with self.ready:
            self.calls += 1
            self.ready.notify_all()
            goal = min(self.total, self.burst * (self.calls + 1))  # this call's burst stored
            self.ready.wait_for(lambda: self.stored >= goal, WAIT_S)
        return image.copy()


def advancing(clock: FakeClock, seconds: float) -> Callable[[np.ndarray], np.ndarray]:
    """An identity "stylizer" that takes ``seconds`` on ``clock``."""

    def stylize(image: np.ndarray) -> np.ndarray:
        clock.sleep(seconds)
        return image.copy()

    return stylize


def identity(frame: np.ndarray) -> np.ndarray:
    return frame.copy()


@pytest.mark.slow
def test_processes_every_frame_of_a_finite_source_with_the_stylizer() -> None:
    clip = static_clip(frames=6, height=48, width=64)
    frames = FrameStylizer(tiny_stylizer(), size=56)
    out: list[np.ndarray] = []
    stats = run_live(frames, clip, out.append, drop_frames=False)
    assert stats.processed == stats.grabbed == 6 and stats.dropped == 0
    assert stats.stopped_by == "end" and len(out) == 6
    assert all(frame.shape == (48, 64, 3) and frame.dtype == np.uint8 for frame in out)


@pytest.mark.parametrize("drop_frames", [True, False])
def test_respects_max_frames(drop_frames: bool) -> None:
    out: list[np.ndarray] = []
    stats = run_live(
        identity, numbered_frames(None), out.append, max_frames=4, drop_frames=drop_frames
    )
    assert stats.processed == 4 == len(out) and stats.stopped_by == "max_frames"


def test_drops_frames_when_the_source_is_faster_than_processing() -> None:
    camera = Bursts(calls=6)
    out: list[np.ndarray] = []
    stats = run_live(camera.stylize, camera.source(), out.append, max_frames=6, show_fps=False)
    indices = [int(image[0, 0, 0]) for image in out]
    # the first frame is whichever of the first burst came first; then always each burst's newest
    assert indices[0] in (0, 1, 2) and indices[1:] == [5, 8, 11, 14, 17]
    assert stats.processed == 6 and stats.grabbed == 21 and stats.dropped == 15


@pytest.mark.parametrize("drop_frames", [True, False])
def test_stops_after_duration_on_its_clock(drop_frames: bool) -> None:
    clock = FakeClock()
    stats = run_live(
        advancing(clock, 0.1),
        numbered_frames(None if drop_frames else 50),
        lambda f: None,
        duration=0.35,
        drop_frames=drop_frames,
        clock=clock,
    )
    assert stats.stopped_by == "duration" and stats.processed == 4
    assert stats.seconds == pytest.approx(0.4) and stats.fps == pytest.approx(10.0)


def test_the_fps_overlay_shows_the_rate_on_the_clock() -> None:
    clock = FakeClock()
    out: list[np.ndarray] = []
    run_live(advancing(clock, 0.25), numbered_frames(3), out.append, drop_frames=False, clock=clock)
    assert not np.array_equal(out[-1], frame(2))  # "4.0 fps" drawn on the third frame
    expected = draw_fps(frame(2), 4.0)
    np.testing.assert_array_equal(out[-1], expected)


def test_stops_when_the_sink_asks() -> None:
    seen: list[np.ndarray] = []
    stats = run_live(
        identity, numbered_frames(50), lambda f: seen.append(f) or len(seen) == 3, drop_frames=False
    )
    assert stats.stopped_by == "sink" and stats.processed == 3


def test_ctrl_c_ends_the_loop_cleanly() -> None:
    def interrupted(frame: np.ndarray) -> np.ndarray:
        raise KeyboardInterrupt

    stats = run_live(interrupted, numbered_frames(None), lambda f: None)
    assert stats.stopped_by == "interrupt" and stats.processed == 0


def test_source_errors_reach_the_caller() -> None:
    def failing() -> Iterator[np.ndarray]:
        yield np.zeros((40, 48, 3), np.uint8)
        raise VideoError("camera unplugged")

    out: list[np.ndarray] = []
    with pytest.raises(VideoError, match="camera unplugged"):
        run_live(identity, failing(), out.append)


def test_grabber_hands_out_only_the_newest_frame() -> None:
    stored = threading.Event()

    def five() -> Iterator[np.ndarray]:
        yield from numbered_frames(5)
        stored.set()  # the grabber has stored the last frame and asked for more

    grabber = LatestFrameGrabber(five()).start()
    assert stored.wait(WAIT_S)
    newest = grabber.latest(timeout=1)
    assert newest is not None and int(newest[0, 0, 0]) == 4
    assert grabber.latest(timeout=1) is None and grabber.grabbed == 5
    grabber.stop()


def test_fps_overlay_draws_on_a_copy() -> None:
    frame = np.zeros((60, 80, 3), np.uint8)
    drawn = draw_fps(frame, 12.5)
    assert frame.max() == 0 and drawn.max() == 255
    out: list[np.ndarray] = []
    run_live(identity, [frame, frame], out.append, show_fps=False, drop_frames=False)
    assert all(o.max() == 0 for o in out)


def test_file_sink_records_at_the_measured_rate(tmp_path: Path) -> None:
    arrivals = iter(0.08 * k for k in range(8))  # a frame every 80 ms: 12.5 fps
    recorder = VideoFileSink(tmp_path / "live.avi", warmup=4, clock=lambda: next(arrivals))
    for frame in numbered_frames(8):
        recorder(np.repeat(frame, 2, axis=1))
    assert recorder.close() == tmp_path / "live.avi"
    frames, fps = read_clip(tmp_path / "live.avi")
    assert len(frames) == 8 and frames[0].shape == (40, 96, 3) and fps == pytest.approx(12.5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.avi"]


def test_file_sink_discards_and_rejects_unknown_extensions(tmp_path: Path) -> None:
    recorder = VideoFileSink(tmp_path / "x.mp4", fps=10)
    recorder(np.zeros((40, 48, 3), np.uint8))
    assert recorder.close(keep=False) is None and not list(tmp_path.iterdir())
    assert VideoFileSink(tmp_path / "empty.mp4").close() is None
    with pytest.raises(VideoError, match="unknown extension"):
        VideoFileSink(tmp_path / "x.txt")


def test_fan_out_feeds_all_and_stops_when_any_asks() -> None:
    a: list[np.ndarray] = []
    send = fan_out(a.append, lambda f: True)
    assert send(np.zeros((2, 2, 3), np.uint8)) is True and len(a) == 1


def test_no_window_without_a_display(monkeypatch) -> None:
    monkeypatch.setattr(sinks.sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert window_available() is False


def test_a_silent_source_is_a_clear_error() -> None:
    released = threading.Event()

    def silent() -> Iterator[np.ndarray]:
        released.wait(0.5)  # a camera that delivers nothing (until the test lets it go)
        yield np.zeros((40, 48, 3), np.uint8)

    with pytest.raises(VideoError, match=r"no frame arrived within 0.2 s"):
        run_live(identity, silent(), lambda f: None, first_frame_timeout=0.2)
    released.set()
