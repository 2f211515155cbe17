from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from stylenet.losses import PerceptualLoss
from stylenet.nn.transformer import TransformerNet
from tests.helpers.scripts import load_script

quality_report = load_script("quality_report")


def write_checkpoint(
    path: Path,
    styles: list[str],
    style_images: dict[str, str],
    style_weights: dict[str, float] | None = None,
) -> Path:
    torch.manual_seed(0)
    # (width, num_res_blocks, ...): a multi-style net needs conditional instance norm
    norm = "conditional_instance" if len(styles) > 1 else "instance"
    net = TransformerNet(width=0.125, num_res_blocks=1, norm=norm, num_styles=len(styles))
    torch.save(
        {
            "state_dict": {f"net.{k}": v for k, v in net.state_dict().items()},
            "hyper_parameters": {
                "model": dict(net.config),
                "styles": styles,
                "facts": {"style_images": style_images, "style_weights": style_weights or {}},
            },
        },
        path,
    )
    return path


@pytest.fixture
def short_match_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    """Gatys runs of at most 8 iterations (noise starts rarely match a tiny model early)."""
    monkeypatch.setattr(quality_report, "MATCH_ITERATIONS", (2, 4, 8))


def test_one_row_per_style_with_the_recorded_paintings(
    tmp_path: Path, short_match_grid: None
) -> None:
    for name, colour in (("a.png", (200, 30, 30)), ("b_file.png", (30, 30, 200))):
        Image.new("RGB", (40, 40), colour).save(tmp_path / name)
    model = write_checkpoint(tmp_path / "multi.ckpt", ["a", "b"], {"b": "b_file.png"})
    loss = PerceptualLoss({"relu2_1": 1.0}, {"relu1_1": 1.0}, 1.0, 1e4, 0.0, weights="random")
    photos = [torch.rand(3, 32, 40), torch.rand(3, 32, 40)]
    rows = quality_report.evaluate(str(model), photos, loss, tmp_path, repeats=1)
    assert [(r.model, r.style) for r in rows] == [("multi", "a"), ("multi", "b")]
    for row in rows:
        assert set(row.results) == {"photo", "noise"}
        assert row.photo_style > 0 and row.fast.fast_style > 0
        for result in row.results.values():
            assert len(result.photo_matches) == 2
            assert all(
                m is None or m in quality_report.MATCH_ITERATIONS for m in result.photo_matches
            )
        # the same model output scored in both: only Gatys' start differs
        assert row.results["photo"].fast_loss == pytest.approx(row.results["noise"].fast_loss)
        line = quality_report.table_line(row)
        assert line.startswith("| multi |") and line.count("|") == 10
    assert rows[0].photo_style != rows[1].photo_style  # each style scored on its own painting


def test_median_match_counts_unmatched_photos() -> None:
    assert quality_report.median_match([25, 50, 100]) == "50"
    assert quality_report.median_match([25, None]) == ">500 for 1 of 2"


def test_each_style_is_scored_at_its_training_weight(tmp_path: Path) -> None:
    Image.new("RGB", (40, 40), (200, 30, 30)).save(tmp_path / "a.png")
    Image.new("RGB", (40, 40), (200, 30, 30)).save(tmp_path / "b.png")  # the same painting
    model = write_checkpoint(tmp_path / "multi.ckpt", ["a", "b"], {}, {"b": 3e4})
    loss = PerceptualLoss({"relu2_1": 1.0}, {"relu1_1": 1.0}, 1.0, 1e4, 0.0, weights="random")
    photos = [torch.rand(3, 32, 40)]
    a, b = quality_report.evaluate(str(model), photos, loss, tmp_path, repeats=1, starts=["photo"])
    assert (a.style_weight, b.style_weight) == (1e4, 3e4)  # a: the loss's own weight
    assert b.photo_style == pytest.approx(3 * a.photo_style, rel=1e-4)
    assert "| multi | b | 30000 |" in quality_report.table_line(b)


def test_gatys_from_noise_needs_more_iterations_than_from_the_photo(
    tmp_path: Path, short_match_grid: None
) -> None:
    Image.new("RGB", (40, 40), (200, 30, 30)).save(tmp_path / "a.png")
    model = write_checkpoint(tmp_path / "one.ckpt", ["a"], {})
    loss = PerceptualLoss({"relu2_1": 1.0}, {"relu1_1": 1.0}, 1.0, 1e4, 0.0, weights="random")
    photos = [torch.rand(3, 32, 40, generator=torch.Generator().manual_seed(3))]
    (row,) = quality_report.evaluate(str(model), photos, loss, tmp_path, repeats=1)
    (photo,), (noise,) = row.results["photo"].photo_matches, row.results["noise"].photo_matches
    never = max(quality_report.MATCH_ITERATIONS) + 1
    assert (noise or never) > (photo or never) or photo is None
    assert "| – |" not in quality_report.table_line(row)
    (only,) = quality_report.evaluate(
        str(model), photos, loss, tmp_path, repeats=1, starts=["noise"]
    )
    assert set(only.results) == {"noise"} and "| – |" in quality_report.table_line(only)
