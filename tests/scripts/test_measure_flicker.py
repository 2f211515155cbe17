from __future__ import annotations

import pytest

from tests.helpers.scripts import load_script

measure_flicker = load_script("measure_flicker")


@pytest.mark.slow
def test_prints_flicker_with_and_without_stabilisation(capsys) -> None:
    measure_flicker.main(["--synthetic", "--frames", "4", "--size", "64", "--strength", "0.7"])
    out = capsys.readouterr().out
    assert "model: random johnson_small (untrained)" in out
    assert "clip: synthetic, 4 frames 64x48" in out
    assert "flicker without stabilisation:" in out
    assert "flicker with temporal=0.7 motion=flow:" in out and "ms/frame" in out


def test_static_clip_is_noisy_but_static() -> None:
    photo = measure_flicker.synthetic_photo(64)
    clip = measure_flicker.static_clip(photo, 3, noise=3.0, jitter=2.0, seed=0)
    assert len(clip) == 3 and clip[0].shape == photo.shape and (clip[0] != clip[1]).any()
