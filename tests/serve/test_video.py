from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from stylenet.errors import ConfigError, VideoError
from stylenet.serve import audio, video
from stylenet.serve.video import is_video_file, stylize_video
from tests.serve.clips import read_clip, static_clip, tiny_stylizer, write_clip


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return write_clip(tmp_path / "clip.mp4", static_clip(frames=12, height=48, width=64))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.mp4", True),
        ("b.MOV", True),
        ("c.avi", True),
        ("d.mkv", True),
        ("e.webm", True),
        ("f.m4v", True),
        ("g.jpg", False),
        ("h.png", False),
        ("noext", False),
    ],
)
def test_is_video_file(name: str, expected: bool) -> None:
    assert is_video_file(name) is expected


@pytest.mark.slow
def test_round_trip_keeps_frame_count_size_and_fps(tmp_path: Path, clip: Path) -> None:
    out = stylize_video(tiny_stylizer(), clip, tmp_path / "out.mp4", progress=False)
    frames, fps = read_clip(out)
    assert out == tmp_path / "out.mp4"
    assert len(frames) == 12 and frames[0].shape == (48, 64, 3) and fps == pytest.approx(12.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "out.mp4"]  # no partials


@pytest.mark.parametrize("fps", [23.976, 29.97002997, 65.69137398, 98.08657294, 112.15117840])
def test_writer_opens_at_measured_frame_rates(tmp_path: Path, fps: float) -> None:
    writer = video.open_writer(tmp_path / "rate.mp4", fps, 48, 64)
    writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.release()
    assert read_clip(tmp_path / "rate.mp4")[1] == pytest.approx(fps, rel=1e-3)


@pytest.mark.slow
def test_smaller_processing_size_is_resized_back(tmp_path: Path) -> None:
    source = write_clip(tmp_path / "big.avi", static_clip(frames=4, height=72, width=96), fps=8)
    out = stylize_video(
        tiny_stylizer(), source, tmp_path / "small.avi", size=48, temporal=0.0, progress=False
    )
    frames, fps = read_clip(out)
    assert len(frames) == 4 and frames[0].shape == (72, 96, 3) and fps == pytest.approx(8.0)


@pytest.mark.slow
def test_strength_zero_gives_the_video_back(tmp_path: Path, clip: Path) -> None:
    out = stylize_video(
        tiny_stylizer(), clip, tmp_path / "same.mp4", strength=0.0, temporal=0.0, progress=False
    )
    original, _ = read_clip(clip)
    stylized, _ = read_clip(out)
    assert np.abs(stylized[5].astype(float) - original[5]).mean() < 6  # codec loss only


@pytest.mark.slow
def test_multi_style_weights_and_colour_preservation(tmp_path: Path, clip: Path) -> None:
    stylizer = tiny_stylizer(["a", "b"])
    out = stylize_video(
        stylizer,
        clip,
        tmp_path / "blend.mkv",
        style_weights=[3.0, 1.0],
        preserve_color=True,
        progress=False,
    )
    assert len(read_clip(out)[0]) == 12
    with pytest.raises(ConfigError, match="style_weights has 1 weight"):
        stylize_video(stylizer, clip, tmp_path / "bad.mp4", style_weights=[1.0], progress=False)


def test_failure_leaves_no_output(tmp_path: Path, clip: Path) -> None:
    calls = []

    def broken(images: torch.Tensor, style_weights: torch.Tensor | None = None) -> torch.Tensor:
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("boom")
        return images

    broken.styles = ["x"]  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="boom"):
        stylize_video(broken, clip, tmp_path / "out.mp4", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


def test_missing_corrupt_and_unwritable_videos_raise_video_errors(
    tmp_path: Path, clip: Path
) -> None:
    stylizer = tiny_stylizer()
    with pytest.raises(VideoError, match="video not found"):
        stylize_video(stylizer, tmp_path / "nope.mp4", tmp_path / "o.mp4", progress=False)
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00not a video" * 50)
    with pytest.raises(VideoError, match="cannot read video") as caught:
        stylize_video(stylizer, corrupt, tmp_path / "o.mp4", progress=False)
    assert "\n" not in str(caught.value)
    with pytest.raises(VideoError, match=r"unknown extension '.gif'; use one of .mp4"):
        stylize_video(stylizer, clip, tmp_path / "o.gif", progress=False)
    with pytest.raises(VideoError, match="is the input video"):
        stylize_video(stylizer, clip, clip, progress=False)
    with pytest.raises(VideoError, match="shorter side must be at least 32"):
        stylize_video(stylizer, clip, tmp_path / "o.mp4", size=20, progress=False)
    assert not (tmp_path / "o.mp4").exists()


def test_video_without_frames_raises(tmp_path: Path, clip: Path, monkeypatch) -> None:
    monkeypatch.setattr(video, "read_frames", lambda capture: iter(()))
    with pytest.raises(VideoError, match="no readable frames"):
        stylize_video(tiny_stylizer(), clip, tmp_path / "o.mp4", progress=False)
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.slow
def test_without_ffmpeg_writes_video_only_with_a_warning(
    tmp_path: Path, clip: Path, monkeypatch, caplog
) -> None:
    monkeypatch.setattr(video, "find_ffmpeg", lambda: None)
    with caplog.at_level(logging.WARNING, logger="stylenet.serve.video"):
        out = stylize_video(tiny_stylizer(), clip, tmp_path / "o.mp4", progress=False)
    assert len(read_clip(out)[0]) == 12
    assert "ffmpeg not found" in caplog.text


@pytest.fixture
def clip_with_audio(tmp_path: Path) -> Path:
    """1 s, 10 fps, 64×48 test pattern with a 440 Hz tone (needs an ffmpeg executable)."""
    ffmpeg = audio.find_ffmpeg()
    if ffmpeg is None:
        pytest.skip("no ffmpeg executable (pip install imageio-ffmpeg)")
    source = tmp_path / "with_audio.mp4"
    subprocess.run(
        [
            ffmpeg,
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48:rate=10",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440",
            "-t",
            "1",
            "-c:v",
            "mpeg4",
            "-c:a",
            "aac",
            str(source),
        ],
        check=True,
        timeout=60,
    )
    assert audio.has_audio(ffmpeg, source)
    return source


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".mp4", ".webm", ".avi"])
def test_audio_is_kept(tmp_path: Path, clip_with_audio: Path, suffix: str) -> None:
    out = stylize_video(tiny_stylizer(), clip_with_audio, tmp_path / f"out{suffix}", progress=False)
    assert audio.has_audio(audio.find_ffmpeg(), out)
    assert len(read_clip(out)[0]) == 10


@pytest.mark.slow
def test_failed_audio_remux_keeps_the_video(
    tmp_path: Path, clip_with_audio: Path, monkeypatch, caplog
) -> None:
    monkeypatch.setattr(video, "mux_audio", lambda *args: False)
    with caplog.at_level(logging.WARNING, logger="stylenet.serve.video"):
        out = stylize_video(tiny_stylizer(), clip_with_audio, tmp_path / "o.mp4", progress=False)
    assert len(read_clip(out)[0]) == 10 and "writing video only" in caplog.text
    assert not audio.has_audio(audio.find_ffmpeg(), out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.mp4", "with_audio.mp4"]
