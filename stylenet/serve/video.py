"""Stylize video files: read with OpenCV, stylize frame by frame, write atomically, keep audio."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from stylenet.data.atomic import atomic_path
from stylenet.data.video_files import VIDEO_SUFFIXES as VIDEO_SUFFIXES
from stylenet.data.video_files import is_video_file as is_video_file
from stylenet.errors import VideoError
from stylenet.serve.audio import find_ffmpeg, has_audio, mux_audio
from stylenet.serve.frames import FrameStylizer, processing_size
from stylenet.serve.stylizer import Stylizer
from stylenet.serve.temporal import DEFAULT_STRENGTH, TemporalStabilizer

log = logging.getLogger(__name__)

# Codecs OpenCV's bundled FFmpeg can encode without extra libraries, by output container.
WRITE_FOURCC = {
    ".mp4": "mp4v",
    ".m4v": "mp4v",
    ".mov": "mp4v",
    ".mkv": "mp4v",
    ".avi": "MJPG",
    ".webm": "VP80",
}
DEFAULT_FPS = 30.0


@dataclass(frozen=True)
class VideoInfo:
    """What the container says: frames per second, frame size and (approximate) frame count."""

    fps: float
    height: int
    width: int
    frame_count: int


@contextlib.contextmanager
def quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's own warnings (e.g. while probing a camera); our errors say it better."""
    previous = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(previous)


def open_video(path: str | os.PathLike[str]) -> cv2.VideoCapture:
    """An opened ``cv2.VideoCapture`` for a video file; :class:`VideoError` if it cannot be read."""
    source = Path(path).expanduser()
    if not source.is_file():
        raise VideoError(f"video not found: {path} (check the path)")
    with quiet_opencv():
        capture = cv2.VideoCapture(str(source))
    if not capture.isOpened():
        capture.release()
        raise VideoError(
            f"cannot read video {path}: not a video or an unsupported codec "
            f"(re-encode it, e.g. ffmpeg -i {source.name} out.mp4)"
        )
    return capture


def video_info(capture: cv2.VideoCapture) -> VideoInfo:
    """Frame rate (``DEFAULT_FPS`` when the container has none), size and frame count."""
    fps = float(capture.get(cv2.CAP_PROP_FPS))
    if not math.isfinite(fps) or fps <= 0 or fps > 1000:
        log.warning("the video has no usable frame rate; writing at %.0f fps", DEFAULT_FPS)
        fps = DEFAULT_FPS
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
    return VideoInfo(fps=fps, height=height, width=width, frame_count=max(count, 0))


def read_frames(capture: cv2.VideoCapture) -> Iterator[np.ndarray]:
    """Yield ``H×W×3`` uint8 BGR frames until the capture ends."""
    while True:
        ok, frame = capture.read()
        if not ok or frame is None:
            return
        yield frame


def video_fourcc(path: str | os.PathLike[str]) -> int:
    """The OpenCV fourcc for writing ``path`` (by extension); :class:`VideoError` if unknown."""
    suffix = Path(path).suffix.lower()
    if suffix not in WRITE_FOURCC:
        raise VideoError(
            f"cannot write video {path}: unknown extension {suffix or '(none)'!r}; "
            f"use one of {', '.join(WRITE_FOURCC)}"
        )
    return cv2.VideoWriter_fourcc(*WRITE_FOURCC[suffix])


def encodable_fps(fps: float) -> float:
    """``fps`` rounded so its time base fits MPEG-4's 16-bit denominator (e.g. 23.976, 112.35).

    OpenCV turns the rate into a decimal fraction; an arbitrary measured rate such as
    112.3456 would need a denominator above 65535 and the encoder would refuse to open.
    """
    return round(float(fps), 3 if fps * 1000 <= 65535 else 2)


def open_writer(
    path: str | os.PathLike[str], fps: float, height: int, width: int
) -> cv2.VideoWriter:
    """A ``cv2.VideoWriter`` for ``H×W`` BGR frames; the codec follows ``path``'s extension."""
    fourcc = video_fourcc(path)
    writer = cv2.VideoWriter(str(path), fourcc, encodable_fps(fps), (int(width), int(height)))
    if not writer.isOpened():
        writer.release()
        raise VideoError(
            f"cannot write video {path}: OpenCV could not open an encoder; "
            f"try another extension (.mp4 or .avi) and check the folder is writable"
        )
    return writer


def stylize_video(
    stylizer: Stylizer,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    style_weights: Sequence[float] | np.ndarray | None = None,
    size: int | None = None,
    preserve_color: bool = False,
    strength: float = 1.0,
    temporal: float | TemporalStabilizer = DEFAULT_STRENGTH,
    progress: bool = True,
) -> Path:
    """Stylize every frame of ``input_path`` into ``output_path``; returns the output path.

    Same fps and frame size as the input (``size`` = longest side the network sees; frames
    are resized back). ``style_weights``, ``preserve_color`` and ``strength`` behave as for
    still images; ``temporal`` is the flicker stabiliser's strength in [0, 1] (0 = off) or a
    :class:`TemporalStabilizer`. The audio is kept when ffmpeg is available. The output
    appears only when complete.
    """
    source, target = Path(input_path).expanduser(), Path(output_path).expanduser()
    video_fourcc(target)  # unknown extension: fail before any work
    if target.exists() and source.exists() and target.resolve() == source.resolve():
        raise VideoError(f"output {output_path} is the input video; choose another output path")
    capture = open_video(source)
    try:
        info = video_info(capture)
        if info.height and info.width:
            processing_size(info.height, info.width, size)  # too small: fail before writing
        frames = FrameStylizer(
            stylizer,
            size=size,
            style_weights=style_weights,
            preserve_color=preserve_color,
            strength=strength,
            temporal=temporal,
        )
        frames.reset()  # a stabiliser passed in may remember another video
        with atomic_path(target) as partial:
            _write_with_audio(capture, frames, info, source, partial, progress)
    finally:
        capture.release()
    return target


def _write_with_audio(
    capture: cv2.VideoCapture,
    frames: FrameStylizer,
    info: VideoInfo,
    source: Path,
    output: Path,
    progress: bool,
) -> None:
    """Write the stylized frames to ``output``, then add ``source``'s audio if possible."""
    ffmpeg = find_ffmpeg()
    if ffmpeg is None:
        log.warning(
            'ffmpeg not found: writing video without audio (pip install "stylenet[audio]", or put '
            "ffmpeg on PATH)"
        )
    if ffmpeg is None or not has_audio(ffmpeg, source):
        _write_frames(capture, frames, info, output, progress, source)
        return
    with tempfile.TemporaryDirectory(prefix=".stylenet-video-", dir=output.parent) as folder:
        silent = Path(folder) / f"video{output.suffix}"
        _write_frames(capture, frames, info, silent, progress, source)
        if not mux_audio(ffmpeg, silent, source, output):
            log.warning("could not copy the audio into %s; writing video only", output.suffix)
            with contextlib.suppress(FileNotFoundError):
                output.unlink()
            os.replace(silent, output)


def _write_frames(
    capture: cv2.VideoCapture,
    frames: FrameStylizer,
    info: VideoInfo,
    path: Path,
    progress: bool,
    source: Path,
) -> int:
    """Stylize all frames from ``capture`` into ``path``; returns the frame count."""
    writer: cv2.VideoWriter | None = None
    count = 0
    bar = tqdm(total=info.frame_count or None, desc="video", unit="frame", disable=not progress)
    try:
        for frame in read_frames(capture):
            out = frames(frame)
            if writer is None:
                writer = open_writer(path, info.fps, out.shape[0], out.shape[1])
            writer.write(out)
            count += 1
            bar.update(1)
    finally:
        bar.close()
        if writer is not None:
            writer.release()
    if count == 0:
        raise VideoError(f"video {source} has no readable frames (is the file complete?)")
    return count
