"""2-D maps of feature vectors: PCA, t-SNE (van der Maaten and Hinton 2008) and UMAP (McInnes,
Healy and Melville 2018), and the picture that puts each image's thumbnail at its place."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from stylenet.data.images import tensor_to_pil
from stylenet.errors import ConfigError
from stylenet.extras import installed, require_training_module

METHODS = ("tsne", "pca", "umap")
PCA_BEFORE_TSNE = 50  # t-SNE on the leading principal components (van der Maaten's advice)


def pca(x: np.ndarray, dims: int = 2) -> np.ndarray:
    """``N×D`` → ``N×dims`` principal-component scores (signs fixed: each axis's largest
    loading is positive, so the result does not depend on the SVD routine)."""
    centred = np.asarray(x, dtype=np.float64) - np.mean(x, axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    vt = vt[:dims]
    signs = np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])
    scores = centred @ (vt * signs[:, None]).T
    if scores.shape[1] < dims:  # fewer samples than dims
        scores = np.pad(scores, ((0, 0), (0, dims - scores.shape[1])))
    return scores


def embed_2d(
    x: np.ndarray, *, method: str = "tsne", seed: int = 0, perplexity: float = 30.0
) -> np.ndarray:
    """``N×D`` features → ``N×2`` positions; the same seed gives the same map.

    t-SNE's perplexity is capped at ``(N − 1)/3`` so that small sets (a few styles) work.
    """
    check_method(method)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < 3:
        raise ConfigError(f"embedding needs at least 3 items, got {len(x)}")
    if method == "pca":
        return pca(x)
    if method == "tsne":
        from sklearn.manifold import TSNE

        reduced = pca(x, min(PCA_BEFORE_TSNE, *x.shape)) if x.shape[1] > PCA_BEFORE_TSNE else x
        tsne = TSNE(
            n_components=2, perplexity=min(perplexity, (len(x) - 1) / 3), init="pca",
            random_state=seed, max_iter=1000,
        )  # fmt: skip
        return tsne.fit_transform(reduced)
    import umap

    reducer = umap.UMAP(n_neighbors=min(15, len(x) - 1), random_state=seed)
    return np.asarray(reducer.fit_transform(x))


def check_method(method: str) -> None:
    """Raise a one-line error unless ``method`` is known and its package is installed (t-SNE:
    scikit-learn, from the training extra; UMAP: umap-learn, installed by hand)."""
    if method not in METHODS:
        raise ConfigError(f"embedding method must be one of {', '.join(METHODS)}; got {method!r}")
    if method == "tsne":
        require_training_module(
            "embed.method=tsne", "sklearn", package="scikit-learn", alternative="embed.method=pca"
        )
    if method == "umap" and not installed("umap"):
        raise ConfigError("embed.method=umap needs umap-learn: pip install umap-learn")


def thumbnail_map(
    points: np.ndarray,
    thumbnails: Sequence[torch.Tensor],
    *,
    canvas: int = 1024,
    labels: Sequence[str] | None = None,
    font_size: int = 14,
) -> Image.Image:
    """Each ``3×t×t`` thumbnail drawn centred at its point (``N×2``, scaled to fill a
    ``canvas``-pixel square with a margin), with its label under it when given."""
    if len(points) != len(thumbnails):
        raise ValueError(f"{len(points)} points but {len(thumbnails)} thumbnails")
    side = max(t.shape[-1] for t in thumbnails)
    margin = side // 2 + (font_size + 4 if labels else 0) + 4
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.where(high - low > 0, high - low, 1.0)
    unit = (points - low) / span
    centres = margin + unit * (canvas - 2 * margin)
    page = Image.new("RGB", (canvas, canvas), "white")
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=font_size)
    for i, (centre, thumb) in enumerate(zip(centres, thumbnails, strict=True)):
        x, y = int(centre[0]), int(canvas - centre[1])  # y up
        h, w = thumb.shape[-2:]
        page.paste(tensor_to_pil(thumb), (x - w // 2, y - h // 2))
        if labels:
            draw.text((x, y + h // 2 + 2), labels[i], fill="black", font=font, anchor="mt")
    return page
