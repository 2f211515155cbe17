"""Figures made of stylized images: the style-interpolation grid of Dumoulin et al. (2017) and
captioned grids (galleries: photos × styles)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from stylenet.data.image_files import array_to_pil
from stylenet.serve.pipeline import stylize_array
from stylenet.serve.stylizer import Stylizer


@dataclass
class FigureRow:
    """One row of a captioned figure: equally sized ``H×W×3`` uint8 RGB tiles, and optionally
    a caption above each tile (a row of column titles, or labels of a blend row)."""

    tiles: list[np.ndarray]
    captions: list[str] | None = None


def captioned_grid(
    rows: Sequence[FigureRow], padding: int = 6, caption_height: int = 22, font_size: int = 15
) -> Image.Image:
    """Rows of tiles on a white page, each tile under its caption; returns an RGB image.

    Every tile must have the same size and every row the same number of tiles.
    """
    if not rows or not rows[0].tiles:
        raise ValueError("a figure needs at least one row with one tile")
    height, width = rows[0].tiles[0].shape[:2]
    columns = len(rows[0].tiles)
    for row in rows:
        if len(row.tiles) != columns or any(t.shape[:2] != (height, width) for t in row.tiles):
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
            page.paste(array_to_pil(tile), (padding + column * (width + padding), y))
        y += height + padding
    return page


def blend_caption(styles: Sequence[str], weights: np.ndarray) -> str:
    """``S`` blend weights → "wave" for a pure style, else its main style: "wave 75%"."""
    index = int(weights.argmax())
    share = float(weights[index])
    return styles[index] if share > 0.999 else f"{styles[index]} {share:.0%}"


def blend_grid_captions(styles: Sequence[str], weights: np.ndarray) -> list[list[str] | None]:
    """Captions for an ``n×m×S`` blend grid: every tile of a one-row grid, else the corner
    tiles of the first and last rows (the styles being mixed)."""
    rows, cols = weights.shape[:2]
    if rows == 1:
        return [[blend_caption(styles, w) for w in weights[0]]]
    captions: list[list[str] | None] = [None] * rows
    for r in (0, rows - 1):
        captions[r] = [
            blend_caption(styles, weights[r, c]) if c in (0, cols - 1) else "" for c in range(cols)
        ]
    return captions


def blend_grid_figure(
    stylizer: Stylizer,
    image: np.ndarray,
    weights: np.ndarray,
    preserve_color: bool = False,
) -> Image.Image:
    """``H×W×3`` uint8 RGB photo and ``n×m×S`` blend weights → the photo stylized by each blend, laid
    out as the ``n×m`` grid (Dumoulin et al. 2017, Fig. 7), the styles named at the corners."""
    captions = blend_grid_captions(stylizer.styles, weights)
    rows = [
        FigureRow(
            [
                stylize_array(stylizer, image, style_weights=w, preserve_color=preserve_color)
                for w in weights[r]
            ],
            captions[r],
        )
        for r in range(weights.shape[0])
    ]
    return captioned_grid(rows)
