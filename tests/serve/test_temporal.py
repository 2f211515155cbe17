from __future__ import annotations

import numpy as np
import pytest

from stylenet.errors import ConfigError
from stylenet.serve.frames import FrameStylizer
from stylenet.serve.temporal import TemporalStabilizer, flicker
from tests.serve.clips import OBJECT_BGR, moving_square_clip, static_clip, tiny_stylizer


def test_flicker_metric() -> None:
    content = static_clip(frames=4)
    assert flicker(content, content) == pytest.approx(1.0)
    still = [content[0]] * 4
    assert flicker(still, content) == 0.0
    doubled = [f.astype(np.float32) * 2 for f in content]
    assert flicker(doubled, content) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="two or more"):
        flicker(content[:1], content[:1])


def test_strength_zero_passes_frames_through_unchanged() -> None:
    stabilizer = TemporalStabilizer(strength=0.0)
    for frame in static_clip(frames=3):
        out = stabilizer(frame, frame)
        assert out is not frame and np.array_equal(out, frame)


@pytest.mark.slow
@pytest.mark.parametrize("motion", ["flow", "none"])
def test_stabilisation_lowers_flicker_of_a_static_noisy_clip(motion: str) -> None:
    clip = static_clip(frames=12, height=48, width=64, noise=5.0)
    per_frame = FrameStylizer(tiny_stylizer(), temporal=0.0)
    stylized = [per_frame(frame) for frame in clip]
    stabilizer = TemporalStabilizer(strength=0.7, motion=motion)
    stable = [stabilizer(s, c) for s, c in zip(stylized, clip, strict=True)]
    raw, smooth = flicker(stylized, clip), flicker(stable, clip)
    assert smooth < 0.6 * raw
    # no drift: closer to the clip's average stylization than a single stylized frame is
    average = np.mean(np.stack(stylized).astype(np.float32), axis=0)
    assert np.abs(stable[-1] - average).mean() < np.abs(stylized[-1] - average).mean()


@pytest.mark.parametrize("motion", ["flow", "none"])
def test_a_moving_object_moves_without_ghosting(motion: str) -> None:
    clip, lefts, background = moving_square_clip(frames=10)
    stabilizer = TemporalStabilizer(strength=0.85, motion=motion)
    outputs = [stabilizer(frame, frame) for frame in clip]  # identity "stylization"
    for t in range(1, len(clip)):
        out = outputs[t].astype(np.float32)
        vacated = np.zeros(out.shape[:2], bool)
        vacated[24:44, lefts[t - 1] : lefts[t - 1] + 20] = True
        vacated[24:44, lefts[t] : lefts[t] + 20] = False
        ghost = np.abs(out - background)[vacated].mean()
        square = np.abs(out - np.array(OBJECT_BGR, np.float32))[24:44, lefts[t] : lefts[t] + 20]
        assert ghost < 12, f"frame {t}: trail of the square where it was ({ghost:.1f})"
        assert square.mean() < 12, f"frame {t}: the square lags behind ({square.mean():.1f})"


def test_flow_follows_a_camera_pan() -> None:
    wide = static_clip(frames=1, height=64, width=160, noise=0.0)[0]
    clip = [np.ascontiguousarray(wide[:, 2 * t : 2 * t + 96]) for t in range(10)]
    stabilizer = TemporalStabilizer(strength=0.8, motion="flow")
    outputs = [stabilizer(frame, frame) for frame in clip]
    error = np.abs(outputs[-1].astype(float) - clip[-1])[8:-8, 8:-8].mean()
    assert error < 6  # blended along the motion: no double image


def test_inputs_are_not_modified_and_dtype_is_kept() -> None:
    clip = static_clip(frames=3)
    stabilizer = TemporalStabilizer(strength=0.7)
    for frame in clip:
        stylized = frame.astype(np.float32) * 0.5
        before = stylized.copy(), frame.copy()
        out = stabilizer(stylized, frame)
        assert out.dtype == np.float32 and out.shape == stylized.shape
        assert np.array_equal(stylized, before[0]) and np.array_equal(frame, before[1])
    assert stabilizer(clip[0], clip[0]).dtype == np.uint8


def test_full_strength_still_follows_the_network() -> None:
    stabilizer = TemporalStabilizer(strength=1.0)
    assert stabilizer.max_weight == pytest.approx(0.95)
    frame = static_clip(frames=1)[0]
    stabilizer(frame, frame)
    brighter = np.clip(frame.astype(np.int16) + 40, 0, 255).astype(np.uint8)
    for _ in range(60):
        out = stabilizer(brighter, frame)  # same content, new stylization: converges
    assert np.abs(out.astype(float) - brighter).mean() < 2


def test_reset_and_size_change_start_afresh() -> None:
    stabilizer = TemporalStabilizer(strength=0.9)
    small, other = static_clip(frames=2, seed=3)
    stabilizer(small, small)
    assert not np.array_equal(stabilizer(other, other), other)
    stabilizer.reset()
    assert np.array_equal(stabilizer(other, other), other)
    bigger = static_clip(frames=1, height=40, width=80)[0]
    assert np.array_equal(stabilizer(bigger, bigger), bigger)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"strength": 1.5}, "strength must be in"),
        ({"strength": -0.1}, "strength must be in"),
        ({"motion": "farneback"}, "motion must be one of"),
        ({"sensitivity": 0}, "sensitivity must be > 0"),
    ],
)
def test_bad_settings_raise_config_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TemporalStabilizer(**kwargs)
