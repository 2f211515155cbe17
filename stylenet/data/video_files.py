"""Which paths are video files (by extension); no OpenCV needed, so the base install can tell
a video input apart and ask for the video extra."""

from __future__ import annotations

import os
from pathlib import Path

VIDEO_SUFFIXES = (
    ".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv",
    ".3gp", ".ts", ".mts", ".m2ts", ".ogv",
)  # fmt: skip


def is_video_file(path: int | str | os.PathLike[str]) -> bool:
    """True if ``path``'s extension is a video container (``.mp4``, ``.mov``, ``.avi``, …).

    The one test for "a video" everywhere: inputs of ``stylenet-stylize``, and camera sources
    played at their own frame rate (a camera index such as ``0`` is not a video file).
    """
    if isinstance(path, int):
        return False
    return Path(path).suffix.lower() in VIDEO_SUFFIXES
