"""The distillation module: blended content targets, the pixel term, a frozen teacher."""

from __future__ import annotations

import pytest
import torch

from stylenet.lit.distill import DistillationModule, blended_targets
from stylenet.losses import PerceptualLoss
from stylenet.nn.transformer import TransformerNet


def random_loss() -> PerceptualLoss:
    loss = PerceptualLoss(weights="random", content_layers=["relu2_2"], style_layers=["relu1_2"])
    torch.manual_seed(0)
    loss.set_styles([torch.rand(3, 48, 48)])
    return loss


def test_blended_targets_are_the_weighted_mean_and_leave_the_inputs() -> None:
    photo = {"a": torch.zeros(1, 2, 3, 3)}
    teacher = {"a": torch.ones(1, 2, 3, 3)}
    blended = blended_targets(photo, teacher, 0.25)
    assert torch.allclose(blended["a"], torch.full((1, 2, 3, 3), 0.25))
    assert photo["a"].abs().sum() == 0 and teacher["a"].min() == 1  # nothing edited in place
    assert blended_targets(photo, teacher, 0.0) is photo


def test_the_blended_target_is_the_weighted_sum_of_both_content_losses() -> None:
    # (1-s)|F-P|² + s|F-T|² = |F - ((1-s)P + sT)|² + s(1-s)|P-T|²: the same gradient
    torch.manual_seed(1)
    f, p, t = (torch.randn(1, 4, 5, 5) for _ in range(3))
    s = 0.3
    left = (1 - s) * (f - p).pow(2).mean() + s * (f - t).pow(2).mean()
    right = (f - blended_targets({"x": p}, {"x": t}, s)["x"]).pow(2).mean()
    assert torch.allclose(left, right + s * (1 - s) * (p - t).pow(2).mean(), atol=1e-6)


def make_module(**options) -> DistillationModule:
    torch.manual_seed(2)
    teacher = TransformerNet(0.125, 1)
    student = TransformerNet(0.125, 0, outer_kernel=3)
    return DistillationModule(
        student, random_loss(), ["painting"], teacher=teacher, channels_last=False, **options
    )


def test_the_teacher_is_frozen_and_stays_in_eval_mode() -> None:
    module = make_module(pixel_weight=1.0)
    module.train()
    assert not module.teacher.training and module.net.training
    assert all(not p.requires_grad for p in module.teacher.parameters())
    before = {k: v.clone() for k, v in module.teacher.state_dict().items()}
    optimizer = torch.optim.Adam(module.net.parameters(), lr=1e-2)
    photos = torch.rand(2, 3, 40, 40)
    for _ in range(2):
        optimizer.zero_grad()
        module.training_step(photos, 0).backward()
        optimizer.step()
    after = module.teacher.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_the_pixel_term_pulls_the_student_to_the_teacher() -> None:
    module = make_module(teacher_share=1.0, pixel_weight=1.0e4)
    photos = torch.rand(2, 3, 40, 40)

    def distance() -> float:
        with torch.no_grad():
            return float(
                (module.stylize(photos, None) - module.teacher(photos * 255) / 255).abs().mean()
            )

    start = distance()
    optimizer = torch.optim.Adam(module.net.parameters(), lr=3e-3)
    for _ in range(30):
        optimizer.zero_grad()
        module.training_step(photos, 0).backward()
        optimizer.step()
    assert distance() < 0.7 * start


@pytest.mark.parametrize(
    ("options", "message"),
    [({"teacher_share": 1.5}, "teacher_share"), ({"pixel_weight": -1.0}, "pixel_weight")],
)
def test_bad_options_are_refused(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_module(**options)


def test_a_multi_style_teacher_is_refused() -> None:
    teacher = TransformerNet(0.125, 1, norm="conditional_instance", num_styles=2)
    with pytest.raises(ValueError, match="single-style"):
        DistillationModule(TransformerNet(0.125, 0), random_loss(), ["p"], teacher=teacher)
