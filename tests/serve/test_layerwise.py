from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from stylenet.nn.layer_plan import TorchLayers
from stylenet.nn.transformer import TransformerNet
from stylenet.serve.layerwise import (
    OUTPUT_ROWS,
    Pointwise,
    by_channels,
    layerwise_rows,
    read_window,
    stylize_layerwise,
    upsample2,
)


def perturbed(**options) -> TransformerNet:
    """A small random network whose norm layers' affine parameters are not the identity."""
    torch.manual_seed(0)
    net = TransformerNet(width=0.25, num_res_blocks=1, **options).eval()
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.add_(0.1 * torch.randn_like(parameter))
    return net


def run(net: TransformerNet, image: torch.Tensor, weights=None, **options) -> torch.Tensor:
    rows = None if weights is None else weights.numpy()
    return torch.from_numpy(stylize_layerwise(TorchLayers(net), image.numpy(), rows, **options))


@pytest.mark.slow
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"upsample": "bilinear"},
        {"outer_kernel": 5},
        {"norm": "conditional_instance", "num_styles": 3},
        {"norm": "batch"},
        {"norm": "none"},
    ],
)
def test_layer_by_layer_tiles_give_the_single_pass(options: dict) -> None:
    net = perturbed(**options)
    image = torch.rand(2, 3, 101, 143) * 255  # odd sizes: the network pads to a multiple of 4
    weights = torch.softmax(torch.randn(2, 3), dim=1) if "num_styles" in options else None
    with torch.no_grad():
        single = net(image, weights)
    for tile, memory in ((8, 0), (37, 2**30), (1000, 0)):  # tiny tiles: many tile borders
        out = run(net, image, weights, tile=tile, map_memory=memory)  # maps in files / memory
        assert out.shape == single.shape
        torch.testing.assert_close(out, single, rtol=0, atol=5e-3)  # 0-255 scale


@pytest.mark.slow
def test_per_tile_instance_norm_would_differ() -> None:
    """The property the layer-by-layer run keeps: tiles normalised alone change the output."""
    net = perturbed()
    image = torch.rand(1, 3, 64, 128) * 255
    with torch.no_grad():
        halves = torch.cat([net(image[..., :64]), net(image[..., 64:])], dim=3)
        single = net(image)
    assert (halves - single).abs().mean() > 1.0
    out = run(net, image, tile=64)
    assert (out - single).abs().max() < 5e-3


@pytest.mark.slow
def test_uint8_arrays_stream_out_in_rows_like_the_float_array() -> None:
    net = perturbed()
    pixels = (torch.rand(1, 3, 300, 90) * 255).round()
    whole = run(net, pixels, tile=64)
    rows = list(layerwise_rows(TorchLayers(net), pixels.to(torch.uint8).numpy(), tile=64))
    assert [y for y, _ in rows] == list(range(0, 300, OUTPUT_ROWS))
    assert all(piece.dtype == np.float32 for _, piece in rows)
    np.testing.assert_allclose(np.concatenate([p for _, p in rows], axis=2), whole.numpy())


@pytest.mark.slow
def test_the_layer_maps_are_removed(tmp_path: Path) -> None:
    net = perturbed()
    run(net, torch.rand(1, 3, 40, 48) * 255, tile=16, folder=tmp_path, map_memory=0)
    assert list(tmp_path.iterdir()) == []


def test_the_callers_image_is_not_changed() -> None:
    image = (np.random.default_rng(0).random((1, 3, 40, 44)) * 255).astype(np.float32)
    before = image.copy()
    stylize_layerwise(TorchLayers(perturbed()), image, tile=16)
    np.testing.assert_array_equal(image, before)


def test_bad_arguments_are_refused() -> None:
    layers = TorchLayers(perturbed())
    with pytest.raises(ValueError, match="tile must be at least 8"):
        stylize_layerwise(layers, np.zeros((1, 3, 40, 40), np.float32), tile=4)
    with pytest.raises(ValueError, match=r"N×3×H×W"):
        stylize_layerwise(layers, np.zeros((3, 40, 40), np.float32), tile=16)
    with pytest.raises(ValueError, match="larger than 4 px"):
        stylize_layerwise(layers, np.zeros((1, 3, 4, 40), np.float32), tile=16)


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("shape", [(1, 2, 1, 1), (2, 3, 5, 7), (1, 1, 8, 2)])
def test_upsampling_matches_torch(mode: str, shape: tuple[int, ...]) -> None:
    x = torch.randn(shape)
    expected = F.interpolate(x, scale_factor=2.0, mode=mode).numpy()
    np.testing.assert_allclose(upsample2(x.numpy(), mode), expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("upsample", [None, "nearest", "bilinear"])
def test_windows_read_the_padded_map(upsample: str | None) -> None:
    """A window anywhere, edges included, equals the same rows of the whole padded map."""
    source = np.random.default_rng(1).random((1, 2, 9, 11), dtype=np.float32)
    whole = torch.from_numpy(source)
    if upsample is not None:
        whole = F.interpolate(whole, scale_factor=2.0, mode=upsample)
    padded = F.pad(whole, (2, 2, 2, 2), mode="reflect").numpy()
    height, width = whole.shape[-2:]
    for r0, c0 in itertools.product((-2, 0, 3), (-2, 1, 4)):
        r1, c1 = min(height + 2, r0 + 7), min(width + 2, c0 + 6)
        window = read_window(source, (r0, r1), (c0, c1), upsample)
        np.testing.assert_allclose(
            window, padded[..., r0 + 2 : r1 + 2, c0 + 2 : c1 + 2], rtol=0, atol=1e-6
        )


@pytest.mark.parametrize("upsample", [None, "nearest", "bilinear"])
def test_deferred_norms_apply_to_windows_and_leave_the_map_unchanged(upsample: str | None) -> None:
    """A map's deferred norm and ReLU read through a window equal the window of the normalised
    map, and the map itself stays as it was."""
    rng = np.random.default_rng(3)
    source = rng.standard_normal((2, 3, 9, 11), dtype=np.float32)
    before = source.copy()
    pointwise = Pointwise(
        rng.standard_normal((2, 3, 1, 1), dtype=np.float32),
        rng.standard_normal((2, 3, 1, 1), dtype=np.float32),
        relu=True,
    )
    applied = source.copy()
    pointwise.apply(applied)
    assert (applied == 0).any() and (applied > 0).any()  # the ReLU bites
    got = read_window(source, (-2, 11), (-1, 8), upsample, pointwise=pointwise)
    np.testing.assert_allclose(got, read_window(applied, (-2, 11), (-1, 8), upsample), atol=1e-6)
    np.testing.assert_array_equal(source, before)


def test_by_channels_covers_every_channel_once() -> None:
    seen = np.zeros(7, int)

    def mark(c0: int, c1: int) -> None:
        seen[c0:c1] += 1

    by_channels(mark, 7)
    np.testing.assert_array_equal(seen, np.ones(7, int))
