from __future__ import annotations

import torch

from stylenet.data.color import (
    blend_strength,
    luminance,
    rgb_to_yiq,
    transfer_luminance,
    yiq_to_rgb,
)


def test_yiq_round_trip() -> None:
    image = torch.rand(2, 3, 8, 8)
    assert torch.allclose(yiq_to_rgb(rgb_to_yiq(image)), image, atol=1e-5)


def test_transfer_keeps_content_chroma_and_stylized_structure() -> None:
    content = torch.rand(1, 3, 16, 16) * 0.5 + 0.25
    stylized = torch.rand(1, 3, 16, 16)
    out = transfer_luminance(stylized, content)
    chroma_out = rgb_to_yiq(out)[:, 1:]
    chroma_content = rgb_to_yiq(content)[:, 1:]
    assert (chroma_out - chroma_content).abs().mean() < 0.02
    corr = torch.corrcoef(torch.stack([luminance(out).flatten(), luminance(stylized).flatten()]))
    assert corr[0, 1] > 0.95


def test_strength_endpoints() -> None:
    a, b = torch.rand(3, 4, 4), torch.rand(3, 4, 4)
    assert torch.equal(blend_strength(a, b, 1.0), a)
    assert torch.equal(blend_strength(a, b, 0.0), b)
