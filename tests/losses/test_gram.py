from __future__ import annotations

import pytest
import torch

from stylenet.errors import ConfigError
from stylenet.losses.gram import gram_matrix, mix_grams


def test_gram_is_symmetric_psd_and_normalised() -> None:
    feats = torch.randn(2, 8, 5, 7)
    gram = gram_matrix(feats)
    assert gram.shape == (2, 8, 8)
    assert torch.allclose(gram, gram.transpose(1, 2))
    assert (torch.linalg.eigvalsh(gram) > -1e-6).all()
    flat = feats[0].reshape(8, -1)
    assert torch.allclose(gram[0], flat @ flat.T / (8 * 5 * 7), atol=1e-6)


def test_gram_scales_quadratically_and_ignores_size() -> None:
    feats = torch.randn(1, 4, 6, 6)
    assert torch.allclose(gram_matrix(3 * feats), 9 * gram_matrix(feats), atol=1e-5)
    tiled = feats.repeat(1, 1, 2, 2)  # same statistics at four times the area
    assert torch.allclose(gram_matrix(tiled), gram_matrix(feats), atol=1e-6)


def test_gram_is_float32_under_autocast() -> None:
    feats = torch.randn(1, 4, 6, 6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert gram_matrix(feats.bfloat16()).dtype == torch.float32


def test_mix_grams_is_normalised_weighted_sum() -> None:
    a = {"relu1_1": torch.eye(3)}
    b = {"relu1_1": torch.zeros(3, 3)}
    mixed = mix_grams([a, b], [3.0, 1.0])
    assert torch.allclose(mixed["relu1_1"], 0.75 * torch.eye(3))
    with pytest.raises(ConfigError):
        mix_grams([a, b], [1.0])
    with pytest.raises(ConfigError):
        mix_grams([a, b], [-1.0, 2.0])
    with pytest.raises(ConfigError):
        mix_grams([a, b], [0.0, 0.0])
