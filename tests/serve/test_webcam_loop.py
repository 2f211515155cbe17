from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from stylenet.errors import VideoError
from stylenet.serve import sinks
from stylenet.serve.frames import FrameStylizer
from stylenet.serve.live import LatestFrameGrabber, draw_fps, run_live
from stylenet.serve.sinks import VideoFileSink, fan_out, window_available
from tests.serve.clips import read_clip, static_clip, tiny_stylizer


def numbered_frames(count: int | None, interval: float = 0.0) -> Iterator[np.ndarray]:
    """Frames whose pixel values are their index (mod 256), every ``interval`` seconds."""
    index = 0
    while count is None or index < count:
        if interval:
            time.sleep(interval)
        yield np.full((40, 48, 3), index % 256, np.uint8)
        index += 1


def identity(frame: np.ndarray) -> np.ndarray:
    return frame.copy()


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
        identity, numbered_frames(None, 0.001), out.append, max_frames=4, drop_frames=drop_frames
    )
    assert stats.processed == 4 == len(out) and stats.stopped_by == "max_frames"


def test_drops_frames_when_the_source_is_faster_than_processing() -> None:
    def slow(frame: np.ndarray) -> np.ndarray:
        time.sleep(0.03)
        return frame.copy()

    out: list[np.ndarray] = []
    stats = run_live(slow, numbered_frames(400, 0.002), out.append, max_frames=6, show_fps=False)
    indices = [int(frame[0, 0, 0]) for frame in out]
    assert stats.processed == 6 and stats.dropped > 0 and stats.grabbed > 6
    assert indices == sorted(indices) and indices[-1] - indices[0] > 5  # newest frames, gaps


def test_stops_after_duration_and_when_the_sink_asks() -> None:
    start = time.monotonic()
    stats = run_live(identity, numbered_frames(None, 0.005), lambda f: None, duration=0.3)
    assert stats.stopped_by == "duration" and time.monotonic() - start < 3
    seen: list[np.ndarray] = []
    stats = run_live(
        identity, numbered_frames(50), lambda f: seen.append(f) or len(seen) == 3, drop_frames=False
    )
    assert stats.stopped_by == "sink" and stats.processed == 3


def test_ctrl_c_ends_the_loop_cleanly() -> None:
    def interrupted(frame: np.ndarray) -> np.ndarray:
        raise KeyboardInterrupt

    stats = run_live(interrupted, numbered_frames(None, 0.001), lambda f: None)
    assert stats.stopped_by == "interrupt" and stats.processed == 0


def test_source_errors_reach_the_caller() -> None:
    def failing() -> Iterator[np.ndarray]:
        yield np.zeros((40, 48, 3), np.uint8)
        raise VideoError("camera unplugged")

    out: list[np.ndarray] = []
    with pytest.raises(VideoError, match="camera unplugged"):
        run_live(lambda f: (time.sleep(0.05), f)[1], failing(), out.append)


def test_grabber_hands_out_only_the_newest_frame() -> None:
    grabber = LatestFrameGrabber(numbered_frames(5)).start()
    time.sleep(0.2)
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
    def silent() -> Iterator[np.ndarray]:
        time.sleep(1.0)
        yield np.zeros((40, 48, 3), np.uint8)

    with pytest.raises(VideoError, match=r"no frame arrived within 0.2 s"):
        run_live(identity, silent(), lambda f: None, first_frame_timeout=0.2)
