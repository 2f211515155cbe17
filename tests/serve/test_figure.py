from __future__ import annotations

import numpy as np
import pytest

from stylenet.serve.blend import interpolation_grid
from stylenet.serve.figure import FigureRow, blend_caption, blend_grid_captions, captioned_grid


def solid(value: int, height: int = 20, width: int = 30) -> np.ndarray:
    return np.full((height, width, 3), value, dtype=np.uint8)


def test_tiles_land_in_their_cells_under_the_captions() -> None:
    rows = [
        FigureRow([solid(0), solid(128)], captions=["photo", "style"]),
        FigureRow([solid(255), solid(64)]),
    ]
    page = np.asarray(captioned_grid(rows, padding=4, caption_height=10))
    assert page.shape == (4 + 10 + 20 + 4 + 20 + 4, 4 + 2 * (30 + 4), 3)
    assert (page[14:34, 4:34] == 0).all()  # row 1, column 1, below its caption
    assert (page[14:34, 38:68] == 128).all()
    assert (page[38:58, 38:68] == 64).all()  # row 2 has no caption strip
    assert (page[4:14] < 255).any()  # the captions are drawn
    assert (page[:4] == 255).all()


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [FigureRow([solid(0)]), FigureRow([solid(0), solid(0)])],
        [FigureRow([solid(0), solid(0, height=21)])],
        [FigureRow([solid(0)], captions=["a", "b"])],
    ],
)
def test_ragged_figures_are_rejected(rows: list[FigureRow]) -> None:
    with pytest.raises(ValueError):
        captioned_grid(rows)


STYLES = ["starry_night", "wave", "udnie", "the_scream"]


def test_blend_caption_names_the_main_style_and_its_share() -> None:
    assert blend_caption(STYLES, np.array([0.0, 1.0, 0.0, 0.0])) == "wave"
    assert blend_caption(STYLES, np.array([0.25, 0.0, 0.75, 0.0])) == "udnie 75%"


def test_a_two_style_grid_is_one_captioned_row() -> None:
    weights = interpolation_grid(STYLES, ["wave", "udnie"], 3)
    assert blend_grid_captions(STYLES, weights) == [["wave", "wave 50%", "udnie"]]


def test_a_four_style_grid_names_its_corners() -> None:
    weights = interpolation_grid(STYLES, STYLES, 3)
    assert blend_grid_captions(STYLES, weights) == [
        ["starry_night", "", "wave"],
        None,
        ["udnie", "", "the_scream"],
    ]
