"""Blob artefacts of instance-normalised networks: round smudges that are not in the photo.

A network with instance norm (Ulyanov et al. 2016) or conditional instance norm (Dumoulin et
al. 2017) can learn to plant one strong, localised spike in a channel: the spike dominates the
channel's mean and variance, so normalisation squashes the rest of the channel and the network
escapes it (Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN",
Sec. 2). The spike decodes to a round blob, visible where the photo is flat (sky, walls).

Two measures:

- :func:`blob_score` (output space): the fraction of pixels where the stylization's
  low-frequency colour departs strongly from its neighbourhood median while the photo's does
  not, i.e. a smooth patch of colour the photo does not explain. Brush strokes are finer than
  the pooling and average out; a blob survives it.
- :func:`normalized_peaks` (activation space): per norm layer, the largest instance-normalised
  value ``|x - μ| / σ`` over channels and positions; a spike channel reaches many σ.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from stylenet.nn.transformer import ConvNormAct

POOL = 4  # px averaged away first: brush-stroke texture is finer than this
WINDOW = 15  # pooled px of the neighbourhood median (60 px at POOL=4): wider than a blob
BLOB_THRESHOLD = 40.0  # colour distance (0-255 scale) that counts as a smudge
PHOTO_THRESHOLD = 20.0  # the photo's own departure must stay below this


def local_departure(image: torch.Tensor, *, pool: int = POOL, window: int = WINDOW) -> torch.Tensor:
    """``N×3×H×W`` in [0, 255] → ``N×h×w`` (``h = H // pool``): the Euclidean RGB distance of
    each pooled pixel from the median of its ``window × window`` pooled neighbourhood."""
    pooled = F.avg_pool2d(image.float(), pool)
    n, c, h, w = pooled.shape
    half = window // 2
    padded = F.pad(pooled, (half, half, half, half), mode="replicate")
    patches = F.unfold(padded, window).view(n, c, window * window, h, w)
    median = patches.median(dim=2).values
    return (pooled - median).norm(dim=1)


def blob_mask(
    stylized: torch.Tensor,
    photo: torch.Tensor,
    *,
    pool: int = POOL,
    window: int = WINDOW,
    threshold: float = BLOB_THRESHOLD,
    photo_threshold: float = PHOTO_THRESHOLD,
) -> torch.Tensor:
    """Boolean ``N×h×w``: pooled pixels that are a smudge in ``stylized`` but not in ``photo``
    (both ``N×3×H×W`` in [0, 255], same size)."""
    if stylized.shape != photo.shape:
        raise ValueError(f"stylized {tuple(stylized.shape)} and photo {tuple(photo.shape)} differ")
    out = local_departure(stylized, pool=pool, window=window)
    source = local_departure(photo, pool=pool, window=window)
    return (out > threshold) & (source < photo_threshold)


def blob_score(stylized: torch.Tensor, photo: torch.Tensor, **options: Any) -> torch.Tensor:
    """``N`` fractions in [0, 1]: the share of each image's pooled pixels in :func:`blob_mask`
    (keyword options as there)."""
    return blob_mask(stylized, photo, **options).flatten(1).float().mean(dim=1)


def normalized_peaks(
    net: nn.Module,
    image: torch.Tensor,
    style_weights: torch.Tensor | None = None,
    *,
    eps: float = 1e-5,
) -> dict[str, float]:
    """Run ``net(image, style_weights)`` (a :class:`TransformerNet`) and return, for every
    normalisation layer (by module name), the largest ``|x - μ| / sqrt(σ² + eps)`` of its input over batch, channels and
    positions (μ, σ² per image and channel, as instance norm computes them)."""
    peaks: dict[str, float] = {}
    handles = []

    def make_hook(name: str) -> Callable[[nn.Module, tuple[torch.Tensor, ...]], None]:
        def hook(_module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            x = inputs[0].detach().float()
            mean = x.mean(dim=(2, 3), keepdim=True)
            var = x.var(dim=(2, 3), unbiased=False, keepdim=True)
            peaks[name] = float(((x - mean).abs() / (var + eps).sqrt()).max())

        return hook

    for name, module in net.named_modules():
        if isinstance(module, ConvNormAct) and module.norm is not None:
            handles.append(module.norm.register_forward_pre_hook(make_hook(f"{name}.norm")))
    try:
        with torch.no_grad():
            net(image, style_weights) if style_weights is not None else net(image)
    finally:
        for handle in handles:
            handle.remove()
    return peaks
