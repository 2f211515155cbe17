"""Layer maps in memory and in files (stylenet/serve/layer_maps.py)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from stylenet.serve.layer_maps import LayerMap, MapStore, TileMap, block_spans
from stylenet.serve.layerwise import read_window


def test_maps_go_to_files_beyond_the_memory_budget(tmp_path: Path) -> None:
    store = MapStore(tmp_path, memory=4 * 1000)
    first = store.new((1, 10, 10, 10))  # 4000 bytes: in memory
    second = store.new((1, 1, 2, 2))  # over the budget: a file
    assert isinstance(first, np.ndarray) and isinstance(second, LayerMap)
    second.write((0, 2), (0, 2), np.arange(4, dtype=np.float32).reshape(1, 1, 2, 2))
    assert second.read((1, 2), (1, 2)).item() == 3.0
    store.release(first)
    assert isinstance(store.new((1, 10, 10, 10)), np.ndarray)  # its bytes are free again
    store.release(second)
    assert not second.path.exists()
    store.close()


@pytest.mark.parametrize("block", [1, 3, 5, 16])
def test_file_maps_store_column_blocks_and_read_any_window(tmp_path: Path, block: int) -> None:
    rng = np.random.default_rng(2)
    whole = rng.random((2, 3, 9, 14), dtype=np.float32)
    layer_map = LayerMap(tmp_path / "map.f32", whole.shape, block)
    for y0, y1 in ((0, 4), (4, 9)):  # written as tiles of whole blocks
        for x0, x1 in block_spans(14, 6, block):
            layer_map.write((y0, y1), (x0, x1), whole[..., y0:y1, x0:x1])
    assert (tmp_path / "map.f32").stat().st_size == whole.nbytes
    for (r0, r1), (c0, c1) in itertools.product(
        ((0, 9), (2, 5), (8, 9)), ((0, 14), (1, 4), (13, 14))
    ):
        np.testing.assert_array_equal(layer_map.read((r0, r1), (c0, c1)), whole[..., r0:r1, c0:c1])
    window = read_window(layer_map, (-2, 11), (-2, 16), None)  # padded reads work on files too
    np.testing.assert_array_equal(window, read_window(whole, (-2, 11), (-2, 16), None))
    with pytest.raises(ValueError, match="outside"):
        layer_map.read((0, 10), (0, 14))
    layer_map.close()


def test_tile_maps_keep_tiles_uncopied_and_read_any_window() -> None:
    rng = np.random.default_rng(3)
    whole = rng.random((2, 3, 9, 14), dtype=np.float32)
    tile_map = TileMap(whole.shape)
    kept = {}
    for y0, y1 in ((0, 4), (4, 9)):
        for x0, x1 in ((0, 6), (6, 12), (12, 14)):
            kept[y0, x0] = whole[..., y0:y1, x0:x1].copy()
            tile_map.keep((y0, y1), (x0, x1), kept[y0, x0])
    for (r0, r1), (c0, c1) in itertools.product(
        ((0, 9), (2, 5), (8, 9)), ((0, 14), (1, 4), (5, 7), (13, 14))
    ):
        np.testing.assert_array_equal(tile_map.read((r0, r1), (c0, c1)), whole[..., r0:r1, c0:c1])
    window = read_window(tile_map, (-2, 11), (-2, 16), None)  # padded, across tiles
    np.testing.assert_array_equal(window, read_window(whole, (-2, 11), (-2, 16), None))
    inside = tile_map.read((4, 9), (6, 12))  # one tile: a view, so in-place changes stay
    assert np.shares_memory(inside, kept[4, 6])
    inside += 1.0
    tile_map.write((3, 5), (5, 7), np.zeros((2, 3, 2, 2), np.float32))  # across four tiles
    expected = whole.copy()
    expected[..., 4:9, 6:12] += 1.0
    expected[..., 3:5, 5:7] = 0.0
    np.testing.assert_array_equal(tile_map.read((0, 9), (0, 14)), expected)


def test_tile_maps_refuse_overlaps_gaps_and_wrong_shapes() -> None:
    tile_map = TileMap((1, 2, 4, 4))
    tile_map.keep((0, 4), (0, 2), np.zeros((1, 2, 4, 2), np.float32))
    with pytest.raises(ValueError, match="overlaps"):
        tile_map.keep((0, 2), (1, 3), np.zeros((1, 2, 2, 2), np.float32))
    with pytest.raises(ValueError, match="must be"):
        tile_map.keep((0, 4), (2, 4), np.zeros((1, 2, 4, 3), np.float32))
    with pytest.raises(ValueError, match="not all kept"):
        tile_map.read((0, 4), (1, 3))


def test_in_memory_maps_of_several_tiles_are_tile_maps(tmp_path: Path) -> None:
    store = MapStore(tmp_path, memory=2**20)
    assert isinstance(store.new((1, 4, 8, 8), 4, tiles=True), TileMap)
    assert isinstance(store.new((1, 4, 8, 8), 4), np.ndarray)
    store.close()


def test_file_maps_refuse_writes_that_split_a_block(tmp_path: Path) -> None:
    layer_map = LayerMap(tmp_path / "map.f32", (1, 1, 4, 10), block=4)
    layer_map.write((0, 4), (8, 10), np.ones((1, 1, 4, 2), np.float32))  # the last, short block
    with pytest.raises(ValueError, match="whole blocks"):
        layer_map.write((0, 4), (2, 6), np.ones((1, 1, 4, 4), np.float32))
    layer_map.close()


def test_block_spans_cut_on_block_edges() -> None:
    for length, tile, block in (
        (1, 8, 8),
        (100, 8, 8),
        (1000, 724, 128),
        (4000, 1024, 128),
        (37, 20, 3),
    ):
        parts = block_spans(length, tile, block)
        assert parts[0][0] == 0 and parts[-1][1] == length
        assert all(a[1] == b[0] and a[1] % block == 0 for a, b in itertools.pairwise(parts))
        assert all(0 < end - start <= max(tile, block) for start, end in parts)
