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
    area_resize,
    calibrate,
    combine,
    crop_grid,
    matched_mosaics,
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


def test_thumbnail_size() -> None:
    assert thumbnail(np.zeros((1, 3, 300, 600), np.float32), 100).shape == (1, 3, 50, 100)


@pytest.mark.parametrize(
    ("shape", "size"), [((517, 911), (170, 300)), ((300, 600), (50, 100)), ((40, 500), (32, 102))]
)
@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_area_resize_is_opencvs_inter_area(shape, size, dtype) -> None:
    cv2 = pytest.importorskip("cv2")  # the video extra; the thumbnails need no OpenCV
    image = (np.random.default_rng(0).random((3, *shape)) * 255).astype(dtype)
    ours = area_resize(image, size)
    hwc = np.ascontiguousarray(image.transpose(1, 2, 0))
    theirs = cv2.resize(hwc, size[::-1], interpolation=cv2.INTER_AREA).transpose(2, 0, 1)
    assert ours.dtype == np.float32 and ours.shape == (3, *size) and ours.flags.c_contiguous
    # floats to rounding; uint8 rounded to the same integers (ties may differ by one)
    tolerance = 1e-3 if dtype == np.float32 else 1.0
    assert np.abs(ours - theirs).max() <= tolerance
    assert np.abs(ours - theirs).mean() <= (1e-5 if dtype == np.float32 else 0.01)


def test_area_resize_averages_whole_and_partly_covered_pixels() -> None:
    row = np.array([[[0.0, 3.0, 6.0]]], np.float32)  # 1×1×3 → 1×1×2: footprints of 1.5 px
    assert area_resize(row, (1, 2)).tolist() == [[[1.0, 5.0]]]  # (0 + 3/2) / 1.5, (3/2 + 6) / 1.5


@pytest.mark.slow
@pytest.mark.parametrize("multi", [False, True])
@pytest.mark.parametrize("mode", ["calibrated", "thumbnail", "exact"])
def test_shared_statistics_bring_tiles_closer_to_one_pass(multi: bool, mode: str) -> None:
    model = stylizer(multi)
    image = photo()
    weights = np.array([[0.3, 0.7]], np.float32) if multi else None
    single = model(image, weights)
    per_tile = stylize_tiled(model, image, weights, tile=64, overlap=16)
    stats = shared_statistics(model, image, weights, mode=mode, tile=64, side=1024)
    shared = stylize_tiled(model, image, weights, tile=64, overlap=16, statistics=stats)
    # the thumbnail of an image below `side` is the image itself: its statistics are exact;
    # (calibrated: the same); the exact pass re-measures them on 64 px pieces, whose borders
    # see only padding
    bound = 0.65 if mode == "exact" else 0.5
    assert np.abs(shared - single).mean() < bound * np.abs(per_tile - single).mean()


def test_crop_grid_follows_the_aspect_ratio_and_never_overlaps() -> None:
    tops, lefts = crop_grid(300, 500, count=15, crop=40)
    assert (len(tops), len(lefts)) == (3, 5)
    assert all(b - a >= 40 for a, b in itertools.pairwise(tops))
    assert all(b - a >= 40 for a, b in itertools.pairwise(lefts))
    assert tops[0] > 0 and tops[-1] + 40 < 300  # centred in their cells, not at the border
    assert crop_grid(50, 60, count=100, crop=40) == ([5], [10])  # at least one, clipped


def test_matched_mosaics_hold_the_same_places_at_both_scales() -> None:
    image = np.arange(3 * 400 * 600, dtype=np.float32).reshape(1, 3, 400, 600)
    small = thumbnail(image, 300)  # 200×300: a 2× downscale
    [(at_small, at_full, pixels)] = matched_mosaics(
        image, small, crop=20, fraction=0.2, max_pixels=10**6
    )
    tops, lefts = crop_grid(200, 300, count=int(0.2 * 400 * 600 // 40**2), crop=20)
    assert at_small.shape == (1, 3, 20 * len(tops), 20 * len(lefts))
    assert at_full.shape == (1, 3, 40 * len(tops), 40 * len(lefts))
    assert pixels == at_full.shape[-2] * at_full.shape[-1] <= 0.2 * 400 * 600
    crop = small[..., tops[1] : tops[1] + 20, lefts[2] : lefts[2] + 20]
    np.testing.assert_array_equal(at_small[..., 20:40, 40:60], crop)
    y, x = 2 * tops[1], 2 * lefts[2]
    np.testing.assert_array_equal(at_full[..., 40:80, 80:120], image[..., y : y + 40, x : x + 40])
    with pytest.raises(ConfigError, match="fraction"):
        matched_mosaics(image, small, fraction=0.0, max_pixels=10**6)


@pytest.mark.parametrize("max_pixels", [3 * 40 * 40, 40 * 40 * 12, 1])
def test_matched_mosaics_come_in_groups_of_at_most_max_pixels(max_pixels: int) -> None:
    image = np.random.default_rng(0).random((1, 3, 400, 600), dtype=np.float32)
    small = thumbnail(image, 300)
    [(_, whole, total)] = matched_mosaics(image, small, crop=20, max_pixels=10**6)
    parts = matched_mosaics(image, small, crop=20, max_pixels=max_pixels)
    assert len(parts) > 1 and sum(count for *_, count in parts) == total
    assert all(full.shape[-2] * full.shape[-1] <= max(max_pixels, 40 * 40) for _, full, _ in parts)
    # every crop once, in order: the groups' crops are the whole mosaic's
    crops = [
        full[..., y : y + 40, x : x + 40]
        for _, full, _ in parts
        for y in range(0, full.shape[-2], 40)
        for x in range(0, full.shape[-1], 40)
    ]
    expected = [
        whole[..., y : y + 40, x : x + 40]
        for y in range(0, whole.shape[-2], 40)
        for x in range(0, whole.shape[-1], 40)
    ]
    np.testing.assert_array_equal(np.stack(crops), np.stack(expected))


def test_calibrate_moves_means_and_scales_variances() -> None:
    rough = np.array([[1.0, 2.0, 4.0, 9.0]], np.float32)  # one layer: means (1, 2), vars (4, 9)
    at_small = np.array([[0.0, 1.0, 2.0, 0.0]], np.float32)
    at_full = np.array([[0.5, 3.0, 3.0, 5.0]], np.float32)
    np.testing.assert_allclose(calibrate(rough, at_small, at_full, [2]), [[1.5, 4.0, 6.0, 9.0]])


def grainy(height: int, width: int, seed: int) -> np.ndarray:
    """:func:`photo` with fine grain the network responds to at full resolution (averaged
    away by downscaling)."""
    rng = np.random.default_rng(seed)
    image = photo(height, width) + rng.normal(0, 30, (1, 3, height, width))
    return image.clip(0, 255).astype(np.float32)


@pytest.mark.slow
def test_calibration_recovers_the_scale_a_thumbnail_loses() -> None:
    model = stylizer()
    image = grainy(384, 512, seed=1)
    whole = np.asarray(model.statistics(image, None))
    by_thumbnail = shared_statistics(model, image, mode="thumbnail", tile=128, side=96)
    calibrated = shared_statistics(model, image, mode="calibrated", tile=128, side=96)
    assert np.abs(calibrated - whole).mean() < 0.5 * np.abs(by_thumbnail - whole).mean()
    # a picture no larger than the thumbnail: its own statistics, exactly
    small = shared_statistics(model, image, mode="calibrated", tile=128, side=512)
    np.testing.assert_allclose(small, whole, rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_the_calibration_share_is_exact_when_the_crops_cover_the_picture() -> None:
    # 768×1024 at a 4× downscale: 64 px thumbnail crops are 256 px full-resolution crops,
    # a 3×4 grid of them covers the picture, and one group holds them all
    model = stylizer()
    image = grainy(768, 1024, seed=2)
    whole = np.asarray(model.statistics(image, None))
    error = {
        share: np.abs(
            shared_statistics(model, image, mode="calibrated", tile=256, side=256, fraction=share)
            - whole
        ).mean()
        for share in (0.05, 0.5, 1.0)
    }
    assert error[1.0] < 1e-4 < error[0.5] < error[0.05]
    with pytest.raises(ConfigError, match="fraction"):
        shared_statistics(model, image, mode="calibrated", tile=256, side=256, fraction=1.5)


@pytest.mark.slow
def test_exact_statistics_are_a_single_passs_with_one_pass_per_layer() -> None:
    model = stylizer()
    image = photo(128, 192)
    single = model(image)
    exact = shared_statistics(model, image, mode="exact", tile=256, side=48)  # one piece
    thumb = shared_statistics(model, image, mode="thumbnail", tile=256, side=48)
    assert np.abs(model(image, statistics=exact) - single).max() < 0.05
    assert np.abs(model(image, statistics=thumb) - single).mean() > 1.0


@pytest.mark.usefixtures("small_layerwise_tiles")
def test_pipeline_tiles_with_shared_statistics_by_default() -> None:
    model = stylizer()
    image = photo().transpose(0, 2, 3, 1)[0].astype(np.uint8)
    whole = stylize_array(model, image, tile_size=-1).astype(float)
    shared = stylize_array(model, image, tile_size=64, tile_overlap=16).astype(float)
    own = stylize_array(model, image, tile_size=64, tile_overlap=16, tile_statistics="tile")
    assert np.abs(shared - whole).mean() < 0.5 * np.abs(own.astype(float) - whole).mean()
    with pytest.raises(ConfigError, match="tile_statistics must be one of"):
        stylize_array(model, image, tile_statistics="global")
    with pytest.raises(ConfigError, match="calibration fraction"):
        stylize_array(model, image, tile_calibration=0.0)


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
