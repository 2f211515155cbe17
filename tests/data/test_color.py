from __future__ import annotations

import numpy as np
import pytest

from stylenet.data.color import (
    blend_strength,
    luminance,
    rgb_to_yiq,
    transfer_luminance,
    yiq_to_rgb,
)

RNG = np.random.default_rng(0)


def test_yiq_round_trip_in_both_layouts() -> None:
    image = RNG.random((2, 8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(yiq_to_rgb(rgb_to_yiq(image)), image, atol=1e-5)
    planar = image.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(
        rgb_to_yiq(planar, channel_axis=-3), rgb_to_yiq(image).transpose(0, 3, 1, 2), atol=1e-6
    )


def test_transfer_keeps_content_chroma_and_stylized_structure() -> None:
    content = (RNG.random((16, 16, 3)) * 0.5 + 0.25).astype(np.float32)
    stylized = RNG.random((16, 16, 3)).astype(np.float32)
    out = transfer_luminance(stylized, content)
    assert out.dtype == np.float32 and out.shape == content.shape
    chroma_out = rgb_to_yiq(out)[..., 1:]
    chroma_content = rgb_to_yiq(content)[..., 1:]
    assert np.abs(chroma_out - chroma_content).mean() < 0.02
    corr = np.corrcoef(luminance(out).ravel(), luminance(stylized).ravel())
    assert corr[0, 1] > 0.95


def test_transfer_matches_the_content_brightness_per_image() -> None:
    content = np.stack([np.full((8, 8, 3), 0.2), np.full((8, 8, 3), 0.7)]).astype(np.float32)
    content += RNG.normal(0, 0.02, content.shape).astype(np.float32)
    stylized = RNG.random((2, 8, 8, 3)).astype(np.float32)
    out = transfer_luminance(stylized, content)
    means = luminance(out).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(means, luminance(content).mean(axis=(1, 2, 3)), atol=0.02)


def test_strength_endpoints_and_middle() -> None:
    a, b = RNG.random((4, 4, 3)), RNG.random((4, 4, 3))
    np.testing.assert_array_equal(blend_strength(a, b, 1.0), a)
    np.testing.assert_array_equal(blend_strength(a, b, 0.0), b)
    np.testing.assert_allclose(blend_strength(a, b, 0.25), 0.25 * a + 0.75 * b)


def test_luminance_moments_streamed_over_pieces_equal_the_whole_picture() -> None:
    from stylenet.data.color import luminance_moments, rgb_to_yiq, transfer_luminance

    rng = np.random.default_rng(3)
    image = rng.uniform(0, 1, (50, 40, 3)).astype(np.float32)
    luma = rgb_to_yiq(image)[..., 0].astype(np.float64)
    mean, std = luminance_moments(image[y : y + 7] for y in range(0, 50, 7))
    assert mean == pytest.approx(luma.mean(), rel=1e-6)
    assert std == pytest.approx(luma.std(ddof=1), rel=1e-5)
    content = rng.uniform(0, 1, (50, 40, 3)).astype(np.float32)
    whole = transfer_luminance(image, content)
    top = transfer_luminance(
        image[:20],
        content[:20],
        stylized_moments=(mean, std),
        content_moments=luminance_moments([content]),
    )
    np.testing.assert_allclose(top, whole[:20], atol=1e-5)
    with pytest.raises(ValueError, match="two pixels"):
        luminance_moments([image[:1, :1]])
