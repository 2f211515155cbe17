"""Features of every photo in a folder, in batches with a progress bar.

Photos are read as ``size×size`` squares (shorter side resized to ``size``, centre crop), so
that a batch is one tensor and unit positions map back to pixels of the square.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from stylenet.data.images import read_image
from stylenet.losses.gram import gram_matrix

FeatureFn = Callable[[torch.Tensor], dict[str, torch.Tensor]]
Summary = Callable[[torch.Tensor, dict[str, torch.Tensor]], dict[str, torch.Tensor]]
PIXEL_SIDE = 16  # side of the thumbnail used as the pixel-space vector


def load_square(path: Path, size: int) -> torch.Tensor:
    """``3×size×size`` [0, 1]: shorter side resized to ``size``, then the centre crop."""
    image = read_image(path)
    height, width = image.shape[-2:]
    scale = size / min(height, width)
    new_h, new_w = max(size, round(height * scale)), max(size, round(width * scale))
    image = F.interpolate(
        image[None], size=(new_h, new_w), mode="bicubic", antialias=True, align_corners=False
    )[0].clamp(0, 1)
    top, left = (new_h - size) // 2, (new_w - size) // 2
    return image[:, top : top + size, left : left + size].contiguous()


def activation_summary(layer: str, inside: tuple[int, int] | None = None) -> Summary:
    """Per image and channel of ``layer``: ``mean`` and ``peak`` (``N×C``), ``where`` the
    peak is (flat index into the ``h×w`` grid, ``N×C``), ``grid`` (``N×2``), and ``pixels``
    (``N×3·16·16``, a small thumbnail as a pixel-space vector).

    ``inside``: ``(first, last)`` rows/columns of units the peak is looked for in (those that
    see no padding, so border detectors do not win); ``None``: every unit.
    """

    def summarize(images: torch.Tensor, maps: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        x = maps[layer].float()
        if x.dim() == 2:
            x = x[:, :, None, None]
        if x.dim() != 4:
            raise ValueError(f"layer {layer} gives shape {tuple(x.shape)}; need N×C or N×C×h×w")
        flat = x.flatten(2)
        searched = x
        if inside is not None:
            keep = torch.zeros(x.shape[-2:], dtype=torch.bool, device=x.device)
            keep[inside[0] : inside[1] + 1, inside[0] : inside[1] + 1] = True
            searched = x.masked_fill(~keep, float("-inf"))
        peak, where = searched.flatten(2).max(dim=2)
        grid = torch.tensor(x.shape[-2:]).expand(x.shape[0], 2)
        pixels = F.interpolate(images, size=(PIXEL_SIDE, PIXEL_SIDE), mode="area").flatten(1)
        return {"mean": flat.mean(dim=2), "peak": peak, "where": where, "grid": grid,
                "pixels": pixels}  # fmt: skip

    return summarize


def gram_summary(layers: Sequence[str]) -> Summary:
    """Per image: ``gram``, the upper triangles of the Gram matrices of ``layers``
    (Gatys et al. 2016), each layer's part scaled to unit length, concatenated."""

    def summarize(images: torch.Tensor, maps: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        parts = []
        for layer in layers:
            gram = gram_matrix(maps[layer])
            rows, cols = torch.triu_indices(gram.shape[1], gram.shape[2])
            part = gram[:, rows, cols]
            parts.append(part / part.norm(dim=1, keepdim=True).clamp(min=1e-12))
        return {"gram": torch.cat(parts, dim=1)}

    return summarize


@torch.no_grad()
def folder_features(
    features: FeatureFn,
    files: Sequence[Path],
    summarize: Summary,
    *,
    size: int,
    batch_size: int = 16,
    device: torch.device | str = "cpu",
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """``summarize(images, features(images))`` over ``files`` in batches, concatenated
    along the first axis (one row per file, in order) as NumPy arrays."""
    parts: dict[str, list[np.ndarray]] = {}
    # no bar when stderr is not a terminal; on an error it is cleared before the error line
    with tqdm(
        total=len(files),
        desc="features",
        unit="img",
        leave=False,
        disable=None if progress else True,
    ) as bar:
        for first in range(0, len(files), batch_size):
            batch = torch.stack([load_square(f, size) for f in files[first : first + batch_size]])
            batch = batch.to(device)
            for name, value in summarize(batch, features(batch)).items():
                parts.setdefault(name, []).append(value.detach().cpu().numpy())
            bar.update(len(batch))
    return {name: np.concatenate(chunks) for name, chunks in parts.items()}
