from __future__ import annotations

import pytest
import torch
from torch import nn

from stylenet.eval.fast_vs_gatys import (
    VGG_MEAN_PIXEL,
    Comparison,
    compare,
    gatys_curve,
    loss_terms,
    noise_start,
    report,
)
from stylenet.losses import PerceptualLoss


def tiny_loss() -> PerceptualLoss:
    loss = PerceptualLoss({"relu2_1": 1.0}, {"relu1_1": 1.0}, 1.0, 1e4, 0.0, weights="random")
    loss.set_styles([torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(1))])
    return loss


def blur_stylizer() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.AvgPool2d(3, 1, 1), nn.Hardtanh(0.0, 255.0)).eval()


def test_match_and_speedup() -> None:
    result = Comparison(1.5, 0.5, 0.01, {10: 3.0, 25: 1.5, 50: 1.0}, {10: 1, 25: 2, 50: 4})
    assert result.fast_loss == 2.0
    assert result.matching_iterations() == 25
    assert result.speedup() == pytest.approx(200.0)
    assert Comparison(0.1, 0.0, 1.0, {10: 3.0}, {10: 1.0}).speedup() is None


def test_the_photo_itself_has_no_content_loss() -> None:
    loss, photo = tiny_loss(), torch.rand(1, 3, 32, 40)
    content, style = loss_terms(loss, photo, photo)
    assert content == pytest.approx(0.0, abs=1e-6) and style > 0


@pytest.mark.slow
def test_gatys_curve_falls_and_stops_at_the_threshold() -> None:
    loss, photo = tiny_loss(), torch.rand(1, 3, 32, 40)
    losses, seconds = gatys_curve(loss, photo, (1, 3, 6))
    assert list(losses) == [1, 3, 6] and losses[6] < losses[1]
    assert seconds[1] <= seconds[3] <= seconds[6]
    stopped, _ = gatys_curve(loss, photo, (1, 3, 6), stop_below=losses[3] * 1.01)
    assert list(stopped) == [1, 3]  # same run as above, cut at the count reaching the threshold
    assert stopped[3] == pytest.approx(losses[3], rel=1e-4)


@pytest.mark.slow
def test_compare_records_per_photo_matches() -> None:
    with torch.no_grad():
        stylizer = blur_stylizer()
    photos = [torch.rand(3, 32, 40), torch.rand(3, 32, 40)]
    full = compare(lambda b: stylizer(b), photos, tiny_loss(), iterations=(1, 4), repeats=1)
    assert set(full.gatys_loss) == {1, 4} and len(full.photo_matches) == 2
    assert full.fast_content > 0 and full.fast_style > 0 and full.fast_seconds > 0
    early = compare(
        lambda b: stylizer(b), photos, tiny_loss(), iterations=(1, 4), repeats=1, stop_at_match=True
    )
    assert early.photo_matches == full.photo_matches


def test_noise_start_is_the_mean_pixel_with_faint_noise() -> None:
    start = noise_start((2, 3, 16, 20), seed=1)
    assert start.shape == (2, 3, 16, 20) and start.min() >= 0 and start.max() <= 1
    mean = torch.tensor(VGG_MEAN_PIXEL) / 255
    assert torch.allclose(start.mean(dim=(0, 2, 3)), mean, atol=0.01)
    assert 0.5 / 255 < float(start.std(dim=(0, 2, 3)).mean()) < 2 / 255
    assert torch.equal(start, noise_start((2, 3, 16, 20), seed=1))


@pytest.mark.slow
def test_gatys_from_noise_starts_far_behind_the_photo() -> None:
    loss, photo = tiny_loss(), torch.rand(1, 3, 32, 40)
    from_photo, _ = gatys_curve(loss, photo, (1, 5))
    from_noise, _ = gatys_curve(loss, photo, (1, 5), init=noise_start(photo.shape))
    assert from_noise[1] > from_photo[1]
    assert from_noise[5] < from_noise[1]  # and it descends
    with torch.no_grad():
        stylizer = blur_stylizer()
    with pytest.raises(ValueError, match="start must be"):
        compare(lambda b: stylizer(b), [photo[0]], loss, iterations=(1,), start="grey")


def test_report_names_the_match_and_the_speedup() -> None:
    matched = report(Comparison(1.5, 0.5, 0.01, {10: 3.0, 25: 1.5}, {10: 1.0, 25: 2.0}, [25]))
    assert "| fast model | 2 | 0.010 |" in matched and "| Gatys 25 it | 1.5 | 2.00 |" in matched
    assert matched.endswith("matched by Gatys at 25 iterations; speedup 200×")
    unmatched = report(Comparison(0.1, 0.0, 1.0, {10: 3.0}, {10: 1.0}, [None]))
    assert unmatched.endswith("did not reach the fast model's loss in 10 it.")
