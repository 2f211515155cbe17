"""WCT / AdaIN in NumPy: the transformed features take the painting's statistics, no NaN."""

from __future__ import annotations

import numpy as np
import pytest

from stylenet.errors import ConfigError
from stylenet.serve.wct import FeatureMoments, FeatureStatistics, transfer


def features(seed: int, channels: int = 6, size: int = 40) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(channels, channels))
    return (mix @ rng.normal(size=(channels, size * size))).reshape(channels, size, size) + 3.0


def test_wct_gives_the_style_mean_and_covariance() -> None:
    content, style = features(0), features(1)
    stats_c, stats_s = FeatureStatistics.of(content), FeatureStatistics.of(style)
    out = transfer(content, stats_c, stats_s, transform="wct", eps=1e-9)
    got = FeatureStatistics.of(out)
    np.testing.assert_allclose(got.mean, stats_s.mean, atol=1e-3)
    np.testing.assert_allclose(got.covariance, stats_s.covariance, rtol=1e-2, atol=1e-2)


def test_adain_matches_mean_and_std_and_strength_zero_is_identity() -> None:
    content, style = features(2), features(3)
    stats_c, stats_s = FeatureStatistics.of(content), FeatureStatistics.of(style)
    out = transfer(content, stats_c, stats_s, transform="adain", eps=1e-9)
    got = FeatureStatistics.of(out)
    np.testing.assert_allclose(got.std, stats_s.std, rtol=1e-3)
    same = transfer(content, stats_c, stats_s, strength=0.0)
    np.testing.assert_allclose(same, content, atol=1e-4)


def test_tile_moments_add_up_to_the_whole() -> None:
    content = features(4)
    moments = FeatureMoments.empty(content.shape[0])
    moments.add(content[:, :20])
    moments.add(content[:, 20:])
    whole = FeatureStatistics.of(content)
    np.testing.assert_allclose(
        moments.statistics().covariance, whole.covariance, rtol=1e-5, atol=1e-6
    )  # float32 products


@pytest.mark.parametrize("transform", ["wct", "adain"])
def test_flat_photo_and_flat_painting_give_no_nan(transform: str) -> None:
    flat = np.full((6, 16, 16), 2.0, np.float32)
    textured = features(5, size=16).astype(np.float32)
    for content, style in ((flat, textured), (textured, flat), (flat, flat)):
        out = transfer(
            content,
            FeatureStatistics.of(content),
            FeatureStatistics.of(style),
            transform=transform,
        )
        assert np.isfinite(out).all()


def test_bad_options_are_refused() -> None:
    stats = FeatureStatistics.of(features(6))
    with pytest.raises(ConfigError, match="transform"):
        transfer(features(6), stats, stats, transform="svd")
    with pytest.raises(ConfigError, match="strength"):
        transfer(features(6), stats, stats, strength=1.5)
