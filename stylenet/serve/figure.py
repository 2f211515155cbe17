"""Figures made of stylized images: the style-interpolation grid of Dumoulin et al. (2017) and
captioned grids (galleries: photos × styles)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from PIL import Image, ImageDraw, ImageFont

from stylenet.data.images import tensor_to_pil
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
    # Imported here: torchvision adds about a second to the start of every stylize command.
    from torchvision.utils import make_grid

    rows, cols = weights.shape[:2]
    tiles = [
        stylize_image(stylizer, image, weights[r, c], preserve_color=preserve_color)
        for r in range(rows)
        for c in range(cols)
    ]
    return make_grid(torch.stack(tiles), nrow=cols, padding=padding, pad_value=1.0)


@dataclass
class FigureRow:
    """One row of a captioned figure: equally sized ``3×H×W`` tiles in [0, 1], and optionally
    a caption above each tile (a row of column titles, or labels of a blend row)."""

    tiles: list[torch.Tensor]
    captions: list[str] | None = None


def captioned_grid(
    rows: Sequence[FigureRow], padding: int = 6, caption_height: int = 22, font_size: int = 15
) -> Image.Image:
    """Rows of tiles on a white page, each tile under its caption; returns an RGB image.

    Every tile must have the same size and every row the same number of tiles.
    """
    if not rows or not rows[0].tiles:
        raise ValueError("a figure needs at least one row with one tile")
    height, width = rows[0].tiles[0].shape[-2:]
    columns = len(rows[0].tiles)
    for row in rows:
        if len(row.tiles) != columns or any(t.shape[-2:] != (height, width) for t in row.tiles):
            raise ValueError(f"every row needs {columns} tiles of {height}×{width} px")
        if row.captions is not None and len(row.captions) != columns:
            raise ValueError(f"a row with captions needs {columns} of them")
    page_height = padding + sum(
        (caption_height if row.captions else 0) + height + padding for row in rows
    )
    page = Image.new("RGB", (padding + columns * (width + padding), page_height), "white")
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=font_size)
    y = padding
    for row in rows:
        if row.captions:
            for column, caption in enumerate(row.captions):
                x = padding + column * (width + padding) + width // 2
                draw.text(
                    (x, y + caption_height // 2), caption, fill="black", font=font, anchor="mm"
                )
            y += caption_height
        for column, tile in enumerate(row.tiles):
            page.paste(tensor_to_pil(tile), (padding + column * (width + padding), y))
        y += height + padding
    return page
