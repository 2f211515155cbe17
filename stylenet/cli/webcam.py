"""``stylenet-webcam``: live style transfer from a camera into a window and/or a video file.

Needs the video extra (OpenCV): the modules that use it are imported when the command runs,
so that without it the command answers with one line and exit status 2.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from omegaconf import DictConfig

from stylenet import options
from stylenet.cli.app import PAINTING_ALIAS, command
from stylenet.cli.config import config_dir, require_positive
from stylenet.cli.errors import exit_on_error
from stylenet.cli.values import plain
from stylenet.data.video_files import is_video_file
from stylenet.errors import ConfigError, VideoError
from stylenet.extras import require_video_extra
from stylenet.serve.blend import choose_weights, parse_blend
from stylenet.serve.loader import load_stylizer

if TYPE_CHECKING:
    from stylenet.serve.live import LiveStats
    from stylenet.serve.sinks import PreviewWindow, VideoFileSink


@dataclass
class WebcamRun:
    """What a run did, and the recording it wrote (if any)."""

    stats: LiveStats
    output: Path | None


def _optional_positive(cfg: DictConfig, name: str) -> float | None:
    value = cfg[name]
    return None if value is None else require_positive(name, value, allow_zero=False)


def window_available() -> bool:
    """Whether a preview window can be opened here (OpenCV; see
    :func:`stylenet.serve.sinks.window_available`)."""
    from stylenet.serve.sinks import window_available as available

    return available()


def wants_window(display: object) -> bool:
    """``display`` = auto | true | false → whether to open a preview window."""
    choice = str(display).lower()
    if choice not in ("auto", "true", "false"):
        raise ConfigError(f"display must be auto, true or false, got {display!r}")
    if choice == "false":
        return False
    available = window_available()
    if choice == "true" and not available:
        raise VideoError(
            "display=true but no window can be opened here (no display, or the headless "
            "OpenCV build): record with output=webcam.mp4, or pip install opencv-python"
        )
    return available


def build_frame_stylizer(cfg: DictConfig) -> Callable[[np.ndarray], np.ndarray]:
    """The model, wrapped to take camera frames (``H×W×3`` uint8 BGR) and return stylized ones."""
    import cv2

    from stylenet.serve.frames import FrameStylizer
    from stylenet.serve.temporal import TemporalStabilizer

    stabilizer = TemporalStabilizer(strength=float(cfg.temporal), motion=str(cfg.temporal_motion))
    painting = cfg.get("painting_file")
    stylizer = load_stylizer(
        None if cfg.model is None else str(cfg.model),
        device=str(cfg.device),
        precision=str(cfg.precision),
        providers=options.string_list("providers", cfg.providers),
        painting=None if painting is None else str(painting),
        painting_size=int(
            options.number(
                "painting_size", cfg.get("painting_size", 512), low=64, high=1024, integer=True
            )
        ),
        transform=str(cfg.get("transform", "wct")),
    )
    frames = FrameStylizer(
        stylizer,
        size=None if cfg.size is None else int(require_positive("size", cfg.size, False)),
        style_weights=choose_weights(stylizer.styles, cfg.style, parse_blend(plain(cfg.blend))),
        preserve_color=bool(cfg.preserve_color),
        strength=float(cfg.strength),
        temporal=stabilizer,
    )
    if not cfg.mirror:
        return frames
    return lambda frame: frames(cv2.flip(frame, 1))


def run(
    cfg: DictConfig,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> WebcamRun:
    """Open the camera, stylize live until a stop condition, close everything cleanly.

    ``clock`` and ``sleep`` pace a video file at its own frame rate
    (:func:`stylenet.serve.camera.paced`)."""
    require_video_extra("stylenet-webcam")
    import cv2

    from stylenet.serve.camera import camera_id, open_camera, paced
    from stylenet.serve.live import run_live
    from stylenet.serve.sinks import PreviewWindow, VideoFileSink, fan_out
    from stylenet.serve.video import read_frames, video_fourcc

    if cfg.model is None and cfg.get("painting_file") is None:
        raise ConfigError(
            "model= or painting= is required: an exported .onnx, a .ckpt or a painting"
        )
    camera_id(cfg.camera)  # a negative index is refused before OpenCV sees it
    options.side("size", cfg.size)
    options.number("strength", cfg.strength, low=0, high=1)
    for name in ("preserve_color", "mirror", "show_fps", "drop_frames"):
        options.boolean(name, cfg[name])
    options.string_list("providers", cfg.providers)
    max_frames = _optional_positive(cfg, "max_frames")
    duration = _optional_positive(cfg, "duration")
    window = wants_window(cfg.display)
    if not window and not cfg.output:
        raise VideoError(
            "no display for a preview window and no output= file: add output=webcam.mp4 to "
            "record (or run on a desktop with pip install opencv-python)"
        )
    if cfg.output:
        video_fourcc(cfg.output)
    stylize = build_frame_stylizer(cfg)  # a bad model or painting: before the camera opens
    capture = open_camera(cfg.camera, cfg.capture_width, cfg.capture_height)
    preview: PreviewWindow | None = None
    recorder: VideoFileSink | None = None
    finished = False
    try:
        preview = PreviewWindow() if window else None
        recorder = VideoFileSink(cfg.output, cfg.output_fps) if cfg.output else None
        sink = fan_out(*(s for s in (preview, recorder) if s is not None))
        frames = read_frames(capture)
        if is_video_file(camera_id(cfg.camera)):  # played at its own frame rate, like a camera
            fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
            frames = paced(frames, fps, clock=clock, sleep=sleep)
        stats = run_live(
            stylize,
            frames,
            sink,
            max_frames=None if max_frames is None else int(max_frames),
            duration=duration,
            drop_frames=bool(cfg.drop_frames),
            show_fps=bool(cfg.show_fps),
        )
        finished = True
    finally:
        capture.release()
        if preview is not None:
            preview.close()
        written = recorder.close(keep=finished) if recorder is not None else None
    return WebcamRun(stats=stats, output=written)


def summary(result: WebcamRun) -> str:
    """One line: frames, rate, drops, why it stopped, and the recording."""
    stats = result.stats
    line = (
        f"stylized {stats.processed} frames in {stats.seconds:.1f} s ({stats.fps:.1f} fps, "
        f"{stats.dropped} camera frames dropped; stopped by {stats.stopped_by})"
    )
    return line + (f"; wrote {result.output}" if result.output else "")


@command(config_path=config_dir(), config_name="webcam", aliases=PAINTING_ALIAS)
def main(cfg: DictConfig) -> None:
    print(summary(exit_on_error(run, cfg)))


if __name__ == "__main__":
    main()
