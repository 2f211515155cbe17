"""Nearest neighbours of images in feature space and in pixel space (Krizhevsky, Sutskever and
Hinton 2012, Fig. 4: neighbours by the last hidden layer look alike semantically, not pixel
by pixel)."""

from __future__ import annotations

import numpy as np

METRICS = ("cosine", "euclidean")


def distances(queries: np.ndarray, base: np.ndarray, metric: str = "cosine") -> np.ndarray:
    """``Q×D`` and ``N×D`` → ``Q×N`` distances (cosine: ``1 − cos``; euclidean: L2)."""
    q = np.asarray(queries, dtype=np.float64)
    b = np.asarray(base, dtype=np.float64)
    if metric == "cosine":
        q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
        b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
        return np.clip(1.0 - q @ b.T, 0.0, 2.0)
    if metric == "euclidean":
        squared = (q**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * q @ b.T
        return np.sqrt(np.clip(squared, 0.0, None))
    raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")


def nearest(
    queries: np.ndarray, base: np.ndarray, k: int, metric: str = "cosine"
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest rows of ``base`` for each query: indices and distances, ``Q×k``,
    closest first (ties keep ``base`` order)."""
    dist = distances(queries, base, metric)
    order = np.argsort(dist, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(dist, order, axis=1)
