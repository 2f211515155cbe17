"""Figures made of stylized images: the style-interpolation grid of Dumoulin et al. (2017)."""

from __future__ import annotations

import torch
from torchvision.utils import make_grid

from stylenet.serve.pipeline import stylize_image
from stylenet.serve.stylizer import Stylizer


def blend_grid_figure(
    stylizer: Stylizer,
    image: torch.Tensor,
    weights: torch.Tensor,
    preserve_color: bool = False,
    padding: int = 4,
) -> torch.Tensor:
    """``3×H×W`` photo and ``n×m×S`` blend weights → one ``3×H'×W'`` figure in [0, 1]
    with the photo stylized by each blend, laid out as the ``n×m`` grid."""
    rows, cols = weights.shape[:2]
    tiles = [
        stylize_image(stylizer, image, weights[r, c], preserve_color=preserve_color)
        for r in range(rows)
        for c in range(cols)
    ]
    return make_grid(torch.stack(tiles), nrow=cols, padding=padding, pad_value=1.0)
