from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch

from stylenet.nn.layerwise import OUTPUT_ROWS, layerwise_rows, spans, stylize_layerwise
from stylenet.nn.transformer import TransformerNet


def perturbed(**options) -> TransformerNet:
    """A small random network whose norm layers' affine parameters are not the identity."""
    torch.manual_seed(0)
    net = TransformerNet(width=0.25, num_res_blocks=1, **options).eval()
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.add_(0.1 * torch.randn_like(parameter))
    return net


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"upsample": "bilinear"},
        {"outer_kernel": 5},
        {"norm": "conditional_instance", "num_styles": 3},
        {"norm": "batch"},
    ],
)
def test_layer_by_layer_tiles_give_the_single_pass(options: dict) -> None:
    net = perturbed(**options)
    image = torch.rand(2, 3, 101, 143) * 255  # odd sizes: the network pads to a multiple of 4
    weights = torch.softmax(torch.randn(2, 3), dim=1) if "num_styles" in options else None
    with torch.no_grad():
        single = net(image, weights)
    for tile in (8, 37, 1000):  # tiny tiles: many tile borders in every layer
        out = stylize_layerwise(net, image, weights, tile=tile)
        assert out.shape == single.shape
        torch.testing.assert_close(out, single, rtol=0, atol=5e-3)  # 0-255 scale


def test_per_tile_instance_norm_would_differ() -> None:
    """The property the layer-by-layer run keeps: tiles normalised alone change the output."""
    net = perturbed()
    image = torch.rand(1, 3, 64, 128) * 255
    with torch.no_grad():
        halves = torch.cat([net(image[..., :64]), net(image[..., 64:])], dim=3)
        single = net(image)
    assert (halves - single).abs().mean() > 1.0
    out = stylize_layerwise(net, image, tile=64)
    assert (out - single).abs().max() < 5e-3


def test_uint8_arrays_stream_out_in_rows_like_the_float_tensor() -> None:
    net = perturbed()
    pixels = (torch.rand(1, 3, 300, 90) * 255).round()
    whole = stylize_layerwise(net, pixels, tile=64)
    rows = list(layerwise_rows(net, pixels.to(torch.uint8).numpy(), tile=64))
    assert [y for y, _ in rows] == list(range(0, 300, OUTPUT_ROWS))
    torch.testing.assert_close(torch.cat([piece for _, piece in rows], dim=2), whole)


def test_the_layer_maps_are_removed(tmp_path: Path) -> None:
    net = perturbed()
    stylize_layerwise(net, torch.rand(1, 3, 40, 48) * 255, tile=16, folder=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments_are_refused() -> None:
    net = perturbed()
    with pytest.raises(ValueError, match="tile must be at least 8"):
        stylize_layerwise(net, torch.rand(1, 3, 40, 40), tile=4)
    with pytest.raises(ValueError, match=r"N×3×H×W"):
        stylize_layerwise(net, torch.rand(3, 40, 40), tile=16)


def test_spans_cover_the_length_without_overlap() -> None:
    for length, tile in ((1, 8), (100, 8), (1000, 1024), (1025, 1024), (4000, 1024)):
        parts = spans(length, tile)
        assert parts[0][0] == 0 and parts[-1][1] == length
        assert all(a[1] == b[0] for a, b in itertools.pairwise(parts))
        assert all(0 < end - start <= tile for start, end in parts)
