from __future__ import annotations

import numpy as np
import pytest

from stylenet.data.chart import COLOURS, line_chart, nice_ticks, tick_label


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
