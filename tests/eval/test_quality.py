from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from stylenet.eval import quality
from stylenet.losses import PerceptualLoss
from tests.helpers.networks import write_checkpoint

ITERATIONS = (2, 4, 8)  # short Gatys runs (noise starts rarely match a tiny model early)


def tiny_loss() -> PerceptualLoss:
    return PerceptualLoss({"relu2_1": 1.0}, {"relu1_1": 1.0}, 1.0, 1e4, 0.0, weights="random")


def evaluate(model: Path, photos: list[torch.Tensor], styles: Path, **options) -> list:
    settings = {"repeats": 1, "iterations": ITERATIONS, "style_size": 40, "verbose": False}
    return quality.evaluate(str(model), photos, tiny_loss(), styles, **(settings | options))


@pytest.mark.slow
def test_one_row_per_style_with_the_recorded_paintings(tmp_path: Path) -> None:
    for name, colour in (("a.png", (200, 30, 30)), ("b_file.png", (30, 30, 200))):
        Image.new("RGB", (40, 40), colour).save(tmp_path / name)
    model = write_checkpoint(tmp_path / "multi.ckpt", ["a", "b"], {"b": "b_file.png"})
    rows = evaluate(model, [torch.rand(3, 32, 40), torch.rand(3, 32, 40)], tmp_path)
    assert [(r.model, r.style) for r in rows] == [("multi", "a"), ("multi", "b")]
    for row in rows:
        assert set(row.results) == {"photo", "noise"}
        assert row.photo_style > 0 and row.fast.fast_style > 0
        for result in row.results.values():
            assert len(result.photo_matches) == 2
            assert all(m is None or m in ITERATIONS for m in result.photo_matches)
        # the same model output scored in both: only Gatys' start differs
        assert row.results["photo"].fast_loss == pytest.approx(row.results["noise"].fast_loss)
        line = quality.table_line(row)
        assert line.startswith("| multi |") and line.count("|") == 10
    assert rows[0].photo_style != rows[1].photo_style  # each style scored on its own painting


def test_median_match_counts_unmatched_photos() -> None:
    assert quality.median_match([25, 50, 100]) == "50"
    assert quality.median_match([25, None]) == ">500 for 1 of 2"
    assert quality.median_match([None], largest=50) == ">50 for 1 of 1"


@pytest.mark.slow
def test_each_style_is_scored_at_its_training_weight(tmp_path: Path) -> None:
    Image.new("RGB", (40, 40), (200, 30, 30)).save(tmp_path / "a.png")
    Image.new("RGB", (40, 40), (200, 30, 30)).save(tmp_path / "b.png")  # the same painting
    model = write_checkpoint(tmp_path / "multi.ckpt", ["a", "b"], {}, {"b": 3e4})
    a, b = evaluate(model, [torch.rand(3, 32, 40)], tmp_path, starts=["photo"])
    assert (a.style_weight, b.style_weight) == (1e4, 3e4)  # a: the loss's own weight
    assert b.photo_style == pytest.approx(3 * a.photo_style, rel=1e-4)
    assert "| multi | b | 30000 |" in quality.table_line(b)


@pytest.mark.slow
def test_gatys_from_noise_needs_more_iterations_than_from_the_photo(tmp_path: Path) -> None:
    Image.new("RGB", (40, 40), (200, 30, 30)).save(tmp_path / "a.png")
    model = write_checkpoint(tmp_path / "one.ckpt", ["a"], {})
    photos = [torch.rand(3, 32, 40, generator=torch.Generator().manual_seed(3))]
    (row,) = evaluate(model, photos, tmp_path)
    (photo,), (noise,) = row.results["photo"].photo_matches, row.results["noise"].photo_matches
    never = max(ITERATIONS) + 1
    assert (noise or never) > (photo or never) or photo is None
    assert "| – |" not in quality.table_line(row)
    (only,) = evaluate(model, photos, tmp_path, starts=["noise"])
    assert set(only.results) == {"noise"} and "| – |" in quality.table_line(only)
