from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from stylenet.data.chart import COLOURS, chart_sheet, line_chart, nice_ticks, tick_label


def test_nice_ticks_are_round_and_cover_the_range() -> None:
    assert nice_ticks(0, 6.3e5) == [0, 2e5, 4e5, 6e5, 8e5]
    assert nice_ticks(0, 52.3) == [0, 20, 40, 60]
    assert nice_ticks(1.5, 1.5)[0] <= 1.5 <= nice_ticks(1.5, 1.5)[-1]
    ticks = nice_ticks(0.013, 0.91)
    assert ticks[0] <= 0.013 and ticks[-1] >= 0.91 and len(ticks) <= 7
    with pytest.raises(ValueError):
        nice_ticks(0, float("nan"))


def test_tick_labels_are_short() -> None:
    assert [tick_label(v) for v in (0, 2.5, 6e5, 20)] == ["0", "2.5", "6e+05", "20"]


def test_each_series_is_drawn_in_its_colour() -> None:
    chart = line_chart(
        {"a": [(0, 1.0), (10, 0.5)], "b": [(0, 0.2), (10, 0.4)]},
        title="t",
        x_label="minutes",
        y_label="loss",
        size=(400, 300),
    )
    assert chart.size == (400, 300) and chart.mode == "RGB"
    pixels = np.asarray(chart).reshape(-1, 3)
    for colour in COLOURS[:2]:
        rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(pixels - rgb).sum(axis=1) == 0).sum() > 50
    rgb = np.array([int(COLOURS[2][i : i + 2], 16) for i in (1, 3, 5)])
    assert (np.abs(pixels - rgb).sum(axis=1) == 0).sum() == 0  # no third series


def test_a_chart_needs_a_point() -> None:
    with pytest.raises(ValueError, match="at least one point"):
        line_chart({"a": []})


def test_a_sheet_lays_charts_out_row_by_row() -> None:
    red, blue, green = (Image.new("RGB", (40, 30), c) for c in ("red", "blue", "green"))
    sheet = chart_sheet([red, blue, green], columns=2)
    assert sheet.size == (80, 60)
    assert sheet.getpixel((10, 10)) == (255, 0, 0)
    assert sheet.getpixel((50, 10)) == (0, 0, 255)
    assert sheet.getpixel((10, 40)) == (0, 128, 0)
    assert sheet.getpixel((50, 40)) == (255, 255, 255)  # no fourth chart
    assert chart_sheet([red], columns=3).size == (40, 30)
    with pytest.raises(ValueError, match="at least one chart"):
        chart_sheet([])
