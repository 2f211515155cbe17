"""Open a camera (or a stream URL / video file played live) as a source of BGR frames."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

import cv2
import numpy as np

from stylenet.errors import VideoError
from stylenet.serve.video import quiet_opencv


def camera_id(camera: int | str) -> int | str:
    """``0``/``"0"`` → device index 0; anything else is a path or URL (``rtsp://…``, ``a.mp4``).

    Negative indices and booleans raise :class:`VideoError` (OpenCV can crash on them).
    """
    if isinstance(camera, bool) or camera is None:
        raise VideoError(f"camera must be a device index >= 0, a video file or a URL, got {camera}")
    text = str(camera).strip()
    if text.lstrip("+-").isdigit():
        index = int(text)
        if index < 0:
            raise VideoError(f"camera index must be >= 0, got {camera} (0 is the first camera)")
        return index
    if not text:
        raise VideoError("camera is empty; give a device index (0), a video file or a URL")
    return text


def open_camera(
    camera: int | str, width: int | None = None, height: int | None = None
) -> cv2.VideoCapture:
    """An opened ``cv2.VideoCapture``; :class:`VideoError` when there is no such camera.

    ``width``/``height`` request a capture resolution (the camera may pick the nearest one).
    """
    source = camera_id(camera)
    with quiet_opencv():
        capture = cv2.VideoCapture(source)
        if capture.isOpened():
            if width:
                capture.set(cv2.CAP_PROP_FRAME_WIDTH, int(width))
            if height:
                capture.set(cv2.CAP_PROP_FRAME_HEIGHT, int(height))
            capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # fewer stale frames queued in the driver
    if not capture.isOpened():
        capture.release()
        what = f"camera {source}" if isinstance(source, int) else f"video source {source}"
        raise VideoError(
            f"cannot open {what}: no such camera, or it is in use or not permitted "
            f"(try camera=1, or a video file or stream URL)"
        )
    return capture


def paced(
    frames: Iterable[np.ndarray],
    fps: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[np.ndarray]:
    """``frames`` no faster than ``fps`` per second of wall time, as a camera delivers them.

    A video file decodes far faster than real time; played "live" unpaced, a live loop would
    see it end after a few stylized frames with the rest dropped. Frame ``k`` is released at
    ``start + k / fps`` (at once when the consumer is behind). ``fps <= 0``: unpaced.
    """
    if not fps > 0:
        yield from frames
        return
    start = clock()
    for index, frame in enumerate(frames):
        wait = start + index / fps - clock()
        if wait > 0:
            sleep(wait)
        yield frame
