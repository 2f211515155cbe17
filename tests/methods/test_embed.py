"""2-D maps: deterministic for a seed, clusters stay apart, thumbnails land on the page."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from stylenet.errors import ConfigError, MissingExtraError
from stylenet.methods.embed import embed_2d, pca, thumbnail_map


def clusters() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.concatenate([rng.normal(0, 1, (15, 60)), rng.normal(8, 1, (15, 60))])


@pytest.mark.slow
@pytest.mark.parametrize("method", ["tsne", "pca"])
def test_same_seed_same_map_and_clusters_apart(method: str) -> None:
    x = clusters()
    a = embed_2d(x, method=method, seed=3, perplexity=5)
    b = embed_2d(x, method=method, seed=3, perplexity=5)
    assert a.shape == (30, 2)
    np.testing.assert_array_equal(a, b)
    centre_a, centre_b = a[:15].mean(0), a[15:].mean(0)
    spread = max(a[:15].std(0).max(), a[15:].std(0).max())
    assert np.linalg.norm(centre_a - centre_b) > 2 * spread


@pytest.mark.slow
def test_tsne_caps_the_perplexity_for_small_sets() -> None:
    few = embed_2d(clusters()[:5], method="tsne", seed=0)  # perplexity 30 capped below N
    assert few.shape == (5, 2)


def test_pca_signs_and_small_sets() -> None:
    x = clusters()
    np.testing.assert_allclose(pca(x), pca(x[::-1])[::-1], atol=1e-9)
    with pytest.raises(ConfigError, match="at least 3"):
        embed_2d(x[:2], method="pca")
    with pytest.raises(ConfigError, match="tsne, pca, umap"):
        embed_2d(x, method="isomap")


def test_tsne_without_scikit_learn_asks_for_the_training_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.util.find_spec
    hidden = {"sklearn", "umap"}
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name in hidden else real(name, *a)
    )
    with pytest.raises(MissingExtraError) as info:
        embed_2d(clusters(), method="tsne")
    assert str(info.value) == (
        'embed.method=tsne needs the training extra: pip install "stylenet[train]" '
        "(missing: scikit-learn); or embed.method=pca"
    )
    with pytest.raises(ConfigError, match="umap needs umap-learn: pip install umap-learn"):
        embed_2d(clusters(), method="umap")
    assert embed_2d(clusters(), method="pca").shape == (30, 2)


def test_thumbnail_map_draws_each_thumbnail_at_its_point() -> None:
    points = np.array([[0.0, 0.0], [1.0, 1.0]])
    red, blue = torch.zeros(3, 10, 10), torch.zeros(3, 10, 10)
    red[0], blue[2] = 1, 1
    page = np.asarray(thumbnail_map(points, [red, blue], canvas=100))
    assert page.shape == (100, 100, 3)
    low_left, top_right = page[100 - 9, 9], page[9, 100 - 9]
    assert tuple(low_left) == (255, 0, 0) and tuple(top_right) == (0, 0, 255)
