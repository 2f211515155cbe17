"""Occlusion sensitivity (Zeiler and Fergus 2014): grey out a sliding patch, watch the score.

The map at a pixel is the mean score drop ``score(image) - score(occluded)`` over all patch
positions covering that pixel: large where hiding the pixel hurts the class most.
"""

from __future__ import annotations

import torch
from torch import nn
from tqdm import tqdm

from stylenet.errors import ConfigError


def patch_starts(length: int, patch: int, stride: int) -> list[int]:
    """Start offsets that tile ``[0, length)`` with ``patch``-wide windows (the last one flush)."""
    if patch >= length:
        return [0]
    starts = list(range(0, length - patch + 1, stride))
    if starts[-1] != length - patch:
        starts.append(length - patch)
    return starts


def occlusion(
    model: nn.Module,
    image: torch.Tensor,
    target: int,
    patch: int = 32,
    stride: int = 16,
    fill: float | None = None,
    batch_size: int = 16,
    progress: bool = False,
) -> torch.Tensor:
    """Occlusion map ``H×W`` for ``1×3×H×W`` ``image`` (score drop; may be negative).

    ``fill``: value of the grey patch (default: the image's mean colour). Occluded copies are
    scored ``batch_size`` at a time.
    """
    if patch < 1 or stride < 1 or batch_size < 1:
        raise ConfigError(
            f"patch, stride and batch_size must be >= 1, got {patch}, {stride}, {batch_size}"
        )
    _, _, height, width = image.shape
    x = image.detach()
    colour = (
        x.mean(dim=(2, 3), keepdim=True) if fill is None else torch.full_like(x[:, :, :1, :1], fill)
    )
    boxes = [
        (top, left)
        for top in patch_starts(height, patch, stride)
        for left in patch_starts(width, patch, stride)
    ]
    drops = torch.zeros(height, width, dtype=x.dtype, device=x.device)
    counts = torch.zeros_like(drops)
    with torch.no_grad():
        base = float(model(x)[0, target])
        for i in tqdm(range(0, len(boxes), batch_size), desc="occlusion", disable=not progress):
            chunk = boxes[i : i + batch_size]
            batch = x.repeat(len(chunk), 1, 1, 1)
            for j, (top, left) in enumerate(chunk):
                batch[j, :, top : top + patch, left : left + patch] = colour[0]
            scores = model(batch)[:, target]
            for (top, left), score in zip(chunk, scores.tolist(), strict=True):
                drops[top : top + patch, left : left + patch] += base - score
                counts[top : top + patch, left : left + patch] += 1
    return drops / counts.clamp(min=1)
