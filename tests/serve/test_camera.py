from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stylenet.serve.camera import camera_id, paced
from stylenet.serve.video import is_video_file
from tests.helpers.clock import FakeClock


def frames(count: int) -> list[np.ndarray]:
    return [np.full((2, 2, 3), i, np.uint8) for i in range(count)]


def test_device_indices_streams_and_files(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\0")
    assert camera_id("1") == 1 and camera_id(0) == 0 and camera_id(" rtsp://cam ") == "rtsp://cam"
    assert is_video_file(camera_id(str(clip)))
    assert not is_video_file(camera_id("0")) and not is_video_file("rtsp://cam/stream")


def test_files_are_released_at_their_frame_rate() -> None:
    clock = FakeClock()
    out = list(paced(frames(4), 10.0, clock=clock, sleep=clock.sleep))
    assert [int(f[0, 0, 0]) for f in out] == [0, 1, 2, 3]
    assert clock.sleeps == [0.1, 0.1, 0.1]  # frame k at start + k/10 s
    assert abs(clock.now - 100.3) < 1e-9


def test_a_slow_consumer_gets_frames_at_once_and_catches_up() -> None:
    clock = FakeClock()
    released = []
    for frame in paced(frames(4), 10.0, clock=clock, sleep=clock.sleep):
        released.append((int(frame[0, 0, 0]), round(clock.now - 100.0, 6)))
        clock.now += 0.25  # stylizing takes longer than a frame interval
    assert released == [(0, 0.0), (1, 0.25), (2, 0.5), (3, 0.75)]
    assert clock.sleeps == []


def test_unknown_rate_is_unpaced() -> None:
    clock = FakeClock()
    assert len(list(paced(frames(3), 0.0, clock=clock, sleep=clock.sleep))) == 3
    assert clock.sleeps == []


@pytest.mark.parametrize("camera", [-1, "-1", " -3", True, ""])
def test_negative_and_odd_camera_values_are_refused_before_opencv(camera) -> None:
    from stylenet.errors import VideoError

    with pytest.raises(VideoError, match="camera"):
        camera_id(camera)
