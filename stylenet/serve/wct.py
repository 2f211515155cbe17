"""Closed-form feature transforms for arbitrary style transfer, in NumPy (no torch).

- Whitening-colouring transform (WCT; Li et al. 2017, "Universal Style Transfer via Feature
  Transforms"): content features are whitened with their own covariance and coloured with
  the painting's, then re-centred on the painting's mean.
- AdaIN (Huang and Belongie 2017): per-channel mean and standard deviation only (cheap mode).

Statistics are accumulated as sums (:class:`FeatureMoments`), so that tiles of a big photo
add up to the whole image's statistics. Eigenvalues are floored at a regulariser ``eps``
relative to the mean variance, so a flat photo or a flat painting (singular covariance)
gives finite features, never NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stylenet.errors import ConfigError

TRANSFORMS = ("wct", "adain")
DEFAULT_EPS = 1e-3  # eigenvalue floor, as a share of the mean variance


@dataclass
class FeatureMoments:
    """Running sums of ``C``-channel features: ``count``, ``total`` (C), ``outer`` (C×C)."""

    count: int
    total: np.ndarray
    outer: np.ndarray

    @classmethod
    def empty(cls, channels: int) -> FeatureMoments:
        return cls(0, np.zeros(channels, np.float64), np.zeros((channels, channels), np.float64))

    def add(self, features: np.ndarray) -> None:
        """Add ``C×h×w`` (or ``C×n``) features (products in float32, sums in float64)."""
        flat = np.ascontiguousarray(features, dtype=np.float32).reshape(features.shape[0], -1)
        self.count += flat.shape[1]
        self.total += flat.sum(axis=1, dtype=np.float64)
        self.outer += flat @ flat.T

    def statistics(self) -> FeatureStatistics:
        """Mean and covariance of everything added (``ConfigError`` if nothing was)."""
        if self.count == 0:
            raise ConfigError("no features were added to compute statistics from")
        mean = self.total / self.count
        covariance = self.outer / self.count - np.outer(mean, mean)
        covariance = 0.5 * (covariance + covariance.T)
        return FeatureStatistics(mean=mean, covariance=covariance)


@dataclass(frozen=True)
class FeatureStatistics:
    """``mean`` (C) and ``covariance`` (C×C) of a set of features (float64)."""

    mean: np.ndarray
    covariance: np.ndarray

    @classmethod
    def of(cls, features: np.ndarray) -> FeatureStatistics:
        """Statistics of ``C×h×w`` features."""
        moments = FeatureMoments.empty(features.shape[0])
        moments.add(features)
        return moments.statistics()

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.covariance), 0.0, None))

    def matrix_power(self, power: float, eps: float = DEFAULT_EPS) -> np.ndarray:
        """``(Σ + εI)^power`` through the eigendecomposition, ``ε = eps·mean variance``."""
        values, vectors = np.linalg.eigh(self.covariance)
        floor = eps * max(float(np.mean(np.clip(values, 0.0, None))), 1e-12) + 1e-12
        values = np.clip(values, 0.0, None) + floor
        return (vectors * values**power) @ vectors.T


def check_transform(transform: str, strength: float) -> None:
    """Refuse an unknown transform or a strength outside [0, 1] with one line."""
    if transform not in TRANSFORMS:
        raise ConfigError(f"transform must be one of {', '.join(TRANSFORMS)}, got {transform!r}")
    if not 0.0 <= float(strength) <= 1.0:
        raise ConfigError(f"strength must be in [0, 1], got {strength}")


def transfer_matrix(
    content: FeatureStatistics,
    style: FeatureStatistics,
    *,
    transform: str = "wct",
    strength: float = 1.0,
    eps: float = DEFAULT_EPS,
) -> tuple[np.ndarray, np.ndarray]:
    """The affine map ``x ↦ A x + b`` (``A``: C×C, ``b``: C, float32) of :func:`transfer`.

    WCT: ``A = Σ_s^½ Σ_c^-½``; AdaIN: ``A = diag(σ_s / σ_c)``; both with
    ``b = μ_s − A μ_c``. ``strength`` blends with the identity: ``s·A + (1 − s)·I``,
    ``s·b``, so the whole transform stays one matrix product.
    """
    check_transform(transform, strength)
    if transform == "wct":
        matrix = style.matrix_power(0.5, eps) @ content.matrix_power(-0.5, eps)
    else:
        floor = np.sqrt(eps * max(float(np.mean(content.std**2)), 1e-12) + 1e-12)
        matrix = np.diag(style.std / np.maximum(content.std, floor))
    shift = style.mean - matrix @ content.mean
    if strength < 1.0:
        matrix = strength * matrix + (1.0 - strength) * np.eye(matrix.shape[0])
        shift = strength * shift
    return matrix.astype(np.float32), shift.astype(np.float32)


def transfer(
    features: np.ndarray,
    content: FeatureStatistics,
    style: FeatureStatistics,
    *,
    transform: str = "wct",
    strength: float = 1.0,
    eps: float = DEFAULT_EPS,
) -> np.ndarray:
    """Move ``N×C×h×w`` (or ``C×h×w``) content features to the style's statistics.

    ``content``: the statistics of the whole content image (for tiles: of all tiles);
    ``strength`` blends ``strength·transformed + (1 − strength)·features``. Returns a new
    float32 array of the same shape.
    """
    matrix, shift = transfer_matrix(content, style, transform=transform, strength=strength, eps=eps)
    shape = features.shape
    channels = shape[-3]
    stacked = np.asarray(features, dtype=np.float32).reshape(-1, channels, shape[-2] * shape[-1])
    out = np.empty(stacked.shape, dtype=np.float32)
    for index, flat in enumerate(stacked):
        np.matmul(matrix, flat, out=out[index])
        out[index] += shift[:, None]
    return out.reshape(shape)
