from __future__ import annotations

import pytest
import torch

from stylenet.errors import ConfigError
from stylenet.losses.gram import gram_matrix, mix_grams


def test_gram_is_symmetric_psd_and_normalised() -> None:
    feats = torch.randn(2, 8, 5, 7)
    gram = gram_matrix(feats)
    assert gram.shape == (2, 8, 8)
    torch.testing.assert_close(gram, gram.transpose(1, 2))
    assert (torch.linalg.eigvalsh(gram) > -1e-6).all()
    flat = feats[0].reshape(8, -1)
    torch.testing.assert_close(gram[0], flat @ flat.T / (8 * 5 * 7), atol=1e-6, rtol=1e-5)


def test_gram_scales_quadratically_and_ignores_size() -> None:
    feats = torch.randn(1, 4, 6, 6)
    torch.testing.assert_close(gram_matrix(3 * feats), 9 * gram_matrix(feats), atol=1e-5, rtol=1e-5)
    tiled = feats.repeat(1, 1, 2, 2)  # same statistics at four times the area
    torch.testing.assert_close(gram_matrix(tiled), gram_matrix(feats), atol=1e-6, rtol=1e-5)


def test_gram_is_float32_under_autocast() -> None:
    feats = torch.randn(1, 4, 6, 6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert gram_matrix(feats.bfloat16()).dtype == torch.float32


def test_mix_grams_is_normalised_weighted_sum() -> None:
    a = {"relu1_1": torch.eye(3)}
    b = {"relu1_1": torch.zeros(3, 3)}
    mixed = mix_grams([a, b], [3.0, 1.0])
    torch.testing.assert_close(mixed["relu1_1"], 0.75 * torch.eye(3))
    with pytest.raises(ConfigError):
        mix_grams([a, b], [1.0])
    with pytest.raises(ConfigError):
        mix_grams([a, b], [-1.0, 2.0])
    with pytest.raises(ConfigError):
        mix_grams([a, b], [0.0, 0.0])


def test_gram_gradient_matches_finite_differences_in_float64() -> None:
    features = torch.randn(2, 3, 4, 5, dtype=torch.float64, requires_grad=True)
    assert gram_matrix(features).dtype == torch.float64
    assert torch.autograd.gradcheck(gram_matrix, (features,))
