"""The features cache: miss then hit, keys follow the folder's contents, atomic entries."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stylenet.methods.feature_cache import (
    FeatureCache,
    cache_key,
    default_cache_dir,
    files_fingerprint,
)


def test_second_lookup_is_a_hit_and_returns_the_same_arrays(tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path / "cache")
    calls = []

    def compute() -> dict[str, np.ndarray]:
        calls.append(1)
        return {"mean": np.arange(6, dtype=np.float32).reshape(2, 3)}

    first, hit1 = cache.get_or_compute("k", compute)
    second, hit2 = cache.get_or_compute("k", compute)
    assert (hit1, hit2) == (False, True) and len(calls) == 1
    np.testing.assert_array_equal(first["mean"], second["mean"])
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["k.npz"]  # no partial files


def test_disabled_cache_always_computes(tmp_path: Path) -> None:
    cache = FeatureCache(None)
    _, hit = cache.get_or_compute("k", lambda: {"a": np.zeros(1)})
    _, hit_again = cache.get_or_compute("k", lambda: {"a": np.zeros(1)})
    assert not hit and not hit_again


def test_unreadable_entry_is_a_miss(tmp_path: Path) -> None:
    (tmp_path / "k.npz").write_bytes(b"not a zip")
    assert FeatureCache(tmp_path).load("k") is None


def test_fingerprint_follows_contents(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jpg", tmp_path / "b.jpg"
    a.write_bytes(b"1")
    b.write_bytes(b"22")
    before = files_fingerprint([a, b], tmp_path)
    assert files_fingerprint([a, b], tmp_path) == before
    assert files_fingerprint([a], tmp_path) != before
    b.write_bytes(b"333")
    assert files_fingerprint([a, b], tmp_path) != before


def test_keys_and_default_dir(monkeypatch, tmp_path: Path) -> None:
    assert cache_key(layer="relu1_1", size=64) == cache_key(size=64, layer="relu1_1")
    assert cache_key(layer="relu1_1") != cache_key(layer="relu2_1")
    monkeypatch.setenv("STYLENET_CACHE", str(tmp_path))
    assert default_cache_dir() == tmp_path / "features"
    monkeypatch.delenv("STYLENET_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "stylenet" / "features"
