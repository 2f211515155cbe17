from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from stylenet.errors import ConfigError
from stylenet.nn.checkpoint import ModelInfo
from stylenet.nn.statistics import channel_moments, pack
from stylenet.nn.transformer import TransformerNet
from stylenet.serve.pipeline import stylize_array
from stylenet.serve.shared_statistics import (
    combine,
    pieces,
    shared_statistics,
    supports_statistics,
    thumbnail,
)
from stylenet.serve.tiling import stylize_tiled
from stylenet.serve.torch_backend import TorchStylizer


def stylizer(multi: bool = False) -> TorchStylizer:
    torch.manual_seed(0)
    kwargs = dict(norm="conditional_instance", num_styles=2) if multi else {}
    net = TransformerNet(width=0.125, num_res_blocks=1, **kwargs)
    return TorchStylizer(net, ModelInfo(["a", "b"] if multi else ["a"]), device="cpu")


def photo(height: int = 96, width: int = 160) -> np.ndarray:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x / width, y / height, (x + y) / (height + width)]) * 200
    base[:, :, width // 2 :] *= 0.3  # a dark half: its tiles' own statistics differ
    return (base + rng.normal(0, 8, base.shape)).clip(0, 255).astype(np.float32)[None]


def test_combine_is_exact_over_disjoint_pieces() -> None:
    x = torch.randn(2, 5, 12, 20) * 3 + 1
    parts = [x[..., :4, :], x[..., 4:, :7], x[..., 4:, 7:]]
    packed = [(pack([channel_moments(p)]).numpy(), p.shape[-2] * p.shape[-1]) for p in parts]
    merged = combine(packed, [5])
    np.testing.assert_allclose(merged, pack([channel_moments(x)]).numpy(), atol=1e-4)


def test_pieces_partition_and_thumbnail_size() -> None:
    spans = pieces(1000, 256)
    assert spans[0][0] == 0 and spans[-1][1] == 1000 and len(spans) == 4
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    assert thumbnail(np.zeros((1, 3, 300, 600), np.float32), 100).shape == (1, 3, 50, 100)


@pytest.mark.parametrize("multi", [False, True])
@pytest.mark.parametrize("mode", ["thumbnail", "exact"])
def test_shared_statistics_bring_tiles_closer_to_one_pass(multi: bool, mode: str) -> None:
    model = stylizer(multi)
    image = photo()
    weights = np.array([[0.3, 0.7]], np.float32) if multi else None
    single = model(image, weights)
    per_tile = stylize_tiled(model, image, weights, tile=64, overlap=16)
    stats = shared_statistics(model, image, weights, mode=mode, tile=64, side=1024)
    shared = stylize_tiled(model, image, weights, tile=64, overlap=16, statistics=stats)
    # the thumbnail of an image below `side` is the image itself: its statistics are exact;
    # the exact pass re-measures them on 64 px pieces, whose borders see only padding
    bound = 0.5 if mode == "thumbnail" else 0.65
    assert np.abs(shared - single).mean() < bound * np.abs(per_tile - single).mean()


def test_exact_statistics_are_a_single_passs_with_one_pass_per_layer() -> None:
    model = stylizer()
    image = photo(128, 192)
    single = model(image)
    exact = shared_statistics(model, image, mode="exact", tile=256, side=48)  # one piece
    thumb = shared_statistics(model, image, mode="thumbnail", tile=256, side=48)
    assert np.abs(model(image, statistics=exact) - single).max() < 0.05
    assert np.abs(model(image, statistics=thumb) - single).mean() > 1.0


def test_pipeline_tiles_with_shared_statistics_by_default() -> None:
    model = stylizer()
    image = photo().transpose(0, 2, 3, 1)[0].astype(np.uint8)
    whole = stylize_array(model, image, tile_size=-1).astype(float)
    shared = stylize_array(model, image, tile_size=64, tile_overlap=16).astype(float)
    own = stylize_array(model, image, tile_size=64, tile_overlap=16, tile_statistics="tile")
    assert np.abs(shared - whole).mean() < 0.5 * np.abs(own.astype(float) - whole).mean()
    with pytest.raises(ConfigError, match="statistics must be one of"):
        stylize_array(model, image, tile_statistics="global")


def test_stylizers_without_statistics_tile_as_before() -> None:
    class Plain:
        styles, facts = ["a"], {}

        def __call__(self, images, style_weights=None):
            return images * 0.5

    assert not supports_statistics(Plain())
    image = photo()
    assert shared_statistics(Plain(), image, mode="thumbnail", tile=64) is None
    out = stylize_tiled(Plain(), image, tile=64, overlap=16, statistics=None)
    np.testing.assert_allclose(out, image * 0.5, rtol=1e-5)
