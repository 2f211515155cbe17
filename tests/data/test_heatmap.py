"""Heatmap colouring and overlays."""

from __future__ import annotations

import torch

from stylenet.data.heatmap import INFERNO_STOPS, colormap, heat_image, normalize_map, overlay


def test_colormap_endpoints_and_monotone_brightness() -> None:
    values = torch.linspace(0, 1, 50).view(5, 10)
    rgb = colormap(values)
    assert rgb.shape == (3, 5, 10)
    assert torch.allclose(rgb[:, 0, 0], INFERNO_STOPS[0])
    assert torch.allclose(rgb[:, -1, -1], INFERNO_STOPS[-1])
    brightness = rgb.sum(dim=0).flatten()
    assert torch.all(brightness[1:] >= brightness[:-1] - 1e-6)


def test_normalize_map() -> None:
    heat = torch.tensor([[2.0, 4.0], [6.0, 10.0]])
    unit = normalize_map(heat)
    assert unit.min() == 0 and unit.max() == 1
    assert torch.all(normalize_map(torch.ones(3, 3)) == 0)
    signed = normalize_map(torch.tensor([[-2.0, 0.0, 1.0]]), signed=True)
    assert torch.allclose(signed, torch.tensor([[0.0, 0.5, 0.75]]))
    spiky = torch.zeros(10, 10)
    spiky[0, 0] = 1000.0
    spiky[1:, :] = torch.rand(9, 10)
    assert normalize_map(spiky, clip_pct=95).mean() > 3 * normalize_map(spiky).mean()


def test_overlay_keeps_cold_regions_and_resizes() -> None:
    image = torch.rand(3, 8, 8)
    heat = torch.zeros(4, 4)
    heat[0, 0] = 1.0
    blended = overlay(image, heat, alpha=0.5)
    assert blended.shape == (3, 8, 8)
    assert torch.allclose(blended[:, 7, 7], image[:, 7, 7])
    assert not torch.allclose(blended[:, 0, 0], image[:, 0, 0])
    assert heat_image(torch.randn(6, 7)).shape == (3, 6, 7)


def test_color_bar_is_added_under_the_page() -> None:
    import numpy as np
    from PIL import Image

    from stylenet.data.heatmap import with_color_bar

    page = Image.new("RGB", (300, 100), "white")
    out = with_color_bar(page, 0.0, 4.5)
    assert out.width == 300 and out.height > 100
    strip = np.asarray(out)[110, 90:210].astype(float)
    assert strip.std(axis=0).sum() > 0  # a ramp, not a flat line
    assert strip[-1].sum() > strip[0].sum()  # dark to bright
