"""Heatmaps as pictures: normalise, colour-map (an "inferno"-like ramp) and overlay on a photo.

No plotting library: the colormap is a piecewise-linear ramp through a few stops sampled
from matplotlib's perceptually uniform *inferno* (black → purple → red → orange → yellow).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont

from stylenet.data.images import tensor_to_pil

INFERNO_STOPS = torch.tensor(
    [
        [0.001, 0.000, 0.014],
        [0.159, 0.044, 0.329],
        [0.397, 0.083, 0.433],
        [0.623, 0.165, 0.388],
        [0.831, 0.283, 0.259],
        [0.962, 0.489, 0.083],
        [0.982, 0.756, 0.160],
        [0.988, 0.998, 0.645],
    ]
)


def normalize_map(
    heat: torch.Tensor, signed: bool = False, clip_pct: float = 100.0
) -> torch.Tensor:
    """``H×W`` map → [0, 1]: min–max, or for ``signed`` maps ``0.5 + 0.5·v/max|v|``.

    ``clip_pct`` < 100 saturates values above that percentile (sparse gradient maps are
    otherwise dominated by a few pixels).
    """
    heat = heat.detach().float()
    if clip_pct < 100:
        limit = float(torch.quantile(heat.abs().flatten(), clip_pct / 100.0))
        if limit > 0:
            heat = heat.clamp(-limit, limit)
    if signed:
        peak = float(heat.abs().max())
        return 0.5 + 0.5 * heat / peak if peak > 0 else torch.full_like(heat, 0.5)
    low, high = float(heat.min()), float(heat.max())
    if high - low <= 0:
        return torch.zeros_like(heat)
    return (heat - low) / (high - low)


def colormap(values: torch.Tensor, stops: torch.Tensor = INFERNO_STOPS) -> torch.Tensor:
    """``H×W`` values in [0, 1] → ``3×H×W`` RGB by linear interpolation between ``stops``."""
    v = values.detach().float().clamp(0, 1) * (len(stops) - 1)
    low = v.floor().long().clamp(max=len(stops) - 2)
    frac = (v - low).unsqueeze(-1)
    rgb = stops[low] * (1 - frac) + stops[low + 1] * frac
    return rgb.permute(2, 0, 1).contiguous()


def overlay(image: torch.Tensor, heat: torch.Tensor, alpha: float = 0.5) -> torch.Tensor:
    """Blend the colour-mapped ``H×W`` ``heat`` ([0, 1]) over ``3×H×W`` ``image``.

    Opacity grows with the heat (``alpha·heat``), so cold regions show the photo.
    """
    if heat.shape[-2:] != image.shape[-2:]:
        heat = F.interpolate(heat[None, None], size=image.shape[-2:], mode="bilinear")[0, 0]
    colour = colormap(heat)
    weight = alpha * heat.clamp(0, 1).unsqueeze(0)
    return (image.detach().float().cpu() * (1 - weight) + colour * weight).clamp(0, 1)


def heat_image(heat: torch.Tensor, signed: bool = False, clip_pct: float = 100.0) -> torch.Tensor:
    """Raw ``H×W`` map → colour-mapped ``3×H×W`` picture (see :func:`normalize_map`)."""
    return colormap(normalize_map(heat.cpu(), signed=signed, clip_pct=clip_pct))


def with_color_bar(page: Image.Image, low: float, high: float, height: int = 16) -> Image.Image:
    """``page`` with the colour ramp from ``low`` to ``high`` (labelled) added underneath."""
    width = page.width
    bar_width = max(width - 160, 32)
    ramp = colormap(torch.linspace(0, 1, bar_width)[None].expand(height, bar_width))
    out = Image.new("RGB", (width, page.height + height + 12), "white")
    out.paste(page, (0, 0))
    left, top = (width - bar_width) // 2, page.height + 4
    out.paste(tensor_to_pil(ramp), (left, top))
    draw = ImageDraw.Draw(out)
    font = ImageFont.load_default(size=12)
    middle = top + height // 2
    draw.text((left - 6, middle), f"{low:.3g}", fill="black", font=font, anchor="rm")
    draw.text((left + bar_width + 6, middle), f"{high:.3g}", fill="black", font=font, anchor="lm")
    return out
