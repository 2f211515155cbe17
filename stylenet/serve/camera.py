"""Open a camera (or a stream URL / video file played live) as a source of BGR frames."""

from __future__ import annotations

import cv2

from stylenet.errors import VideoError
from stylenet.serve.video import quiet_opencv


def camera_id(camera: int | str) -> int | str:
    """``0``/``"0"`` → device index 0; anything else is a path or URL (``rtsp://…``, ``a.mp4``)."""
    if isinstance(camera, int):
        return camera
    text = str(camera).strip()
    return int(text) if text.isdigit() else text


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
