"""Carry a source video's audio over to a stylized (video-only) file with ffmpeg.

OpenCV writes pictures only. When an ffmpeg executable is available (on ``PATH``, or the
static build shipped by the ``imageio-ffmpeg`` package) the audio stream is remuxed from the
source: copied as is when the output container accepts its codec, re-encoded otherwise.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

# Re-encode target when the source's audio codec cannot be copied into the output container.
_FALLBACK_CODEC = {".webm": "libopus", ".avi": "libmp3lame"}
_TIMEOUT_S = 600


@functools.cache
def find_ffmpeg() -> str | None:
    """Path of an ffmpeg executable (``PATH`` first, then ``imageio-ffmpeg``'s), or ``None``."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:
        return None


def has_audio(ffmpeg: str, path: str | os.PathLike[str]) -> bool:
    """True if ffmpeg reports an audio stream in ``path`` (``ffmpeg -i`` prints the streams)."""
    proc = subprocess.run(
        [ffmpeg, "-hide_banner", "-i", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=_TIMEOUT_S,
        check=False,
    )
    return any("Stream #" in line and "Audio:" in line for line in proc.stderr.splitlines())


def mux_audio(
    ffmpeg: str,
    video: str | os.PathLike[str],
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
) -> bool:
    """Write ``output`` = ``video``'s pictures (copied) + ``source``'s audio; True on success.

    Tries a stream copy of the audio first, then a re-encode the container accepts. On
    failure ``output`` may be partly written; the caller owns it (write to a temporary path).
    """
    suffix = Path(output).suffix.lower()
    for codec in ("copy", _FALLBACK_CODEC.get(suffix, "aac")):
        command = [
            ffmpeg,
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(video),
            "-i",
            str(source),
            "-map",
            "0:v:0",
            "-map",
            "1:a?",
            "-c:v",
            "copy",
            "-c:a",
            codec,
            str(output),
        ]
        proc = subprocess.run(
            command, capture_output=True, text=True, errors="replace", timeout=_TIMEOUT_S
        )
        if proc.returncode == 0:
            return True
        log.debug("ffmpeg audio remux (-c:a %s) failed: %s", codec, proc.stderr.strip())
    return False
