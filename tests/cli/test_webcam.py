from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from stylenet.cli import webcam
from stylenet.cli.config import config_dir
from stylenet.cli.webcam import run, summary
from stylenet.errors import ConfigError, VideoError
from stylenet.nn.transformer import TransformerNet
from tests.helpers.cli import cli_error_line
from tests.helpers.clock import FakeClock
from tests.serve.clips import read_clip, static_clip, write_clip


def config(*overrides: str):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(config_name="webcam", overrides=list(overrides))


@pytest.fixture
def model(tmp_path: Path) -> Path:
    net = TransformerNet(width=0.125, num_res_blocks=1)
    state = {f"net.{k}": v for k, v in net.state_dict().items()}
    hparams = {"model": net.config, "styles": ["x"], "facts": {}}
    path = tmp_path / "tiny.ckpt"
    torch.save({"state_dict": state, "hyper_parameters": hparams, "global_step": 1}, path)
    return path


@pytest.fixture
def camera_file(tmp_path: Path) -> Path:
    """A video file played as if it were a camera (``camera=`` takes paths and URLs too)."""
    return write_clip(tmp_path / "camera.mp4", static_clip(frames=10, height=48, width=64))


@pytest.mark.slow
def test_a_video_file_plays_live_at_its_own_rate(tmp_path: Path, model: Path) -> None:
    # 12 frames at 6 fps: frame k is released at k/6 s of the clock, as a camera delivers them
    # (an unpaced file would be read in a burst and most frames dropped)
    clip = write_clip(tmp_path / "clip.mp4", static_clip(12, 32, 40), fps=6.0)
    overrides = [f"model={model}", f"camera={clip}", f"output={tmp_path / 'live.mp4'}"]
    clock = FakeClock()
    start = clock.now
    cfg = config(*overrides, "display=false", "size=40", "device=cpu")
    result = run(cfg, clock=clock, sleep=clock.sleep)
    assert result.stats.stopped_by == "end" and result.stats.grabbed == 12
    assert clock.sleeps == pytest.approx([1 / 6] * 11, abs=1e-6)
    assert clock.now - start == pytest.approx(11 / 6)


@pytest.mark.slow
def test_records_a_live_run_to_a_file(tmp_path: Path, model: Path, camera_file: Path) -> None:
    out = tmp_path / "live.mp4"
    result = run(
        config(
            f"model={model}",
            f"camera={camera_file}",
            f"output={out}",
            "display=false",
            "drop_frames=false",
            "max_frames=5",
            "size=56",
            "mirror=true",
            "blend={x: 1}",
            "device=cpu",
        )
    )
    assert result.output == out and result.stats.processed == 5
    frames, _ = read_clip(out)
    assert len(frames) == 5 and frames[0].shape == (48, 64, 3)
    assert "stylized 5 frames" in summary(result) and f"wrote {out}" in summary(result)


def test_no_camera_is_one_clear_error(tmp_path: Path, model: Path) -> None:
    cfg = config(f"model={model}", "camera=97", f"output={tmp_path / 'o.mp4'}")
    with pytest.raises(VideoError, match="cannot open camera 97: no such camera"):
        run(cfg)
    assert not list(tmp_path.glob("*.mp4"))


def test_no_display_and_no_output(model: Path, monkeypatch) -> None:
    monkeypatch.setattr(webcam, "window_available", lambda: False)
    with pytest.raises(VideoError, match="no display for a preview window and no output="):
        run(config(f"model={model}"))
    with pytest.raises(VideoError, match="display=true but no window can be opened"):
        run(config(f"model={model}", "display=true", "output=x.mp4"))


@pytest.mark.parametrize(
    ("override", "error", "message"),
    [
        ("max_frames=0", ConfigError, "max_frames must be > 0"),
        ("duration=-1", ConfigError, "duration must be > 0"),
        ("display=maybe", ConfigError, "display must be auto, true or false"),
        ("output=live.txt", VideoError, "unknown extension '.txt'"),
        ("temporal=1.5", ConfigError, r"temporal strength must be in \[0, 1\]"),
        ("temporal_motion=farneback", ConfigError, "motion must be one of flow, none"),
        ("blend={wave: 1}", ConfigError, "unknown style"),
        ("blend=[1,2]", ConfigError, "blend must look like"),
        ("blend={x: 0}", ConfigError, "all zero"),
    ],
)
def test_bad_options(model: Path, camera_file: Path, override: str, error, message: str) -> None:
    cfg = config(
        f"model={model}", f"camera={camera_file}", "display=false", "output=o.mp4", override
    )
    with pytest.raises(error, match=message):
        run(cfg)


@pytest.mark.slow
def test_command_without_camera_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    line = cli_error_line(
        "webcam",
        "model=starry_night_fast",
        "camera=97",
        "output=o.mp4",
        "display=false",
        cwd=tmp_path,
    )
    assert line.startswith("stylenet: error: cannot open camera 97")
