"""Nearest neighbours: an image's first neighbour is itself; distances are right."""

from __future__ import annotations

import numpy as np
import pytest

from stylenet.methods.neighbors import distances, nearest


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_each_image_is_its_own_first_neighbour(metric: str) -> None:
    base = np.random.default_rng(0).normal(size=(20, 16))
    index, dist = nearest(base[[3, 11]], base, k=5, metric=metric)
    assert index.shape == dist.shape == (2, 5)
    assert index[:, 0].tolist() == [3, 11]
    assert np.allclose(dist[:, 0], 0, atol=1e-6)
    assert np.all(np.diff(dist, axis=1) >= 0)


def test_distances_known_values() -> None:
    q = np.array([[1.0, 0.0]])
    b = np.array([[2.0, 0.0], [0.0, 3.0], [-1.0, 0.0]])
    np.testing.assert_allclose(distances(q, b, "cosine"), [[0.0, 1.0, 2.0]], atol=1e-12)
    np.testing.assert_allclose(distances(q, b, "euclidean"), [[1.0, np.sqrt(10), 2.0]])
    with pytest.raises(ValueError):
        distances(q, b, "manhattan")
