"""Line charts as pictures (PIL only, no plotting library): training curves such as held-out
loss against minutes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from PIL import Image, ImageDraw, ImageFont

Point = tuple[float, float]
# distinct, colour-blind-safe line colours (Okabe and Ito 2008)
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values (steps of 1, 2 or 5 × 10^k) covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"tick range must be finite, got {low}..{high}")
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value < high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 12))
    return ticks


def tick_label(value: float) -> str:
    """``0``, ``2.5``, ``6e+05`` → short labels for axis ticks."""
    return "0" if value == 0 else f"{value:.3g}"


def line_chart(
    series: Mapping[str, Sequence[Point]],
    *,
    title: str = "",
    x_label: str = "",
    y_label: str = "",
    size: tuple[int, int] = (800, 480),
    font_size: int = 14,
) -> Image.Image:
    """One line (with point markers) per named series of ``(x, y)`` points, on shared axes
    with round ticks, axis labels and a legend; returns an RGB image of ``size`` (W, H).

    Series with no points are listed in the legend only; at least one point is needed.
    """
    points = [p for values in series.values() for p in values]
    if not points:
        raise ValueError("a chart needs at least one point")
    width, height = size
    font = ImageFont.load_default(size=font_size)
    x_ticks = nice_ticks(min(0.0, *(x for x, _ in points)), max(x for x, _ in points))
    y_ticks = nice_ticks(min(0.0, *(y for _, y in points)), max(y for _, y in points))
    left, right = 12 + font_size * 5, width - 16
    top, bottom = 16 + (font_size * 2 if title else 0), height - font_size * 4
    page = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(page)

    def to_pixel(x: float, y: float) -> tuple[float, float]:
        fx = (x - x_ticks[0]) / (x_ticks[-1] - x_ticks[0])
        fy = (y - y_ticks[0]) / (y_ticks[-1] - y_ticks[0])
        return left + fx * (right - left), bottom - fy * (bottom - top)

    for value in x_ticks:
        x, _ = to_pixel(value, y_ticks[0])
        draw.line([(x, top), (x, bottom)], fill="#e6e6e6")
        draw.text((x, bottom + 4), tick_label(value), fill="black", font=font, anchor="ma")
    for value in y_ticks:
        _, y = to_pixel(x_ticks[0], value)
        draw.line([(left, y), (right, y)], fill="#e6e6e6")
        draw.text((left - 6, y), tick_label(value), fill="black", font=font, anchor="rm")
    draw.rectangle([left, top, right, bottom], outline="black")
    if title:
        draw.text((width / 2, 8), title, fill="black", font=font, anchor="ma")
    if x_label:
        draw.text(((left + right) / 2, height - 6), x_label, fill="black", font=font, anchor="md")
    if y_label:
        box = (int(draw.textlength(y_label, font=font)) + 4, font_size + 6)
        label = Image.new("RGB", box, "white")
        ImageDraw.Draw(label).text((2, 2), y_label, fill="black", font=font)
        rotated = label.rotate(90, expand=True)
        page.paste(rotated, (2, int((top + bottom - rotated.height) / 2)))
    legend_y = top + 6
    for index, (name, values) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        pixels = [to_pixel(x, y) for x, y in sorted(values)]
        if len(pixels) > 1:
            draw.line(pixels, fill=colour, width=2)
        for x, y in pixels:
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colour)
        draw.line([(right - 150, legend_y + 7), (right - 126, legend_y + 7)], fill=colour, width=3)
        draw.text((right - 120, legend_y), name, fill="black", font=font)
        legend_y += font_size + 6
    return page


def chart_sheet(charts: Sequence[Image.Image], *, columns: int = 2) -> Image.Image:
    """``charts`` (all of the first one's size) laid out row by row, ``columns`` to a row, on
    one white RGB image."""
    if not charts:
        raise ValueError("a sheet needs at least one chart")
    width, height = charts[0].size
    rows = -(-len(charts) // columns)
    sheet = Image.new("RGB", (width * min(columns, len(charts)), height * rows), "white")
    for index, chart in enumerate(charts):
        sheet.paste(chart, ((index % columns) * width, (index // columns) * height))
    return sheet
