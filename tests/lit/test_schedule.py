from __future__ import annotations

import itertools
import math

import pytest
import torch

from stylenet.lit.schedule import TrainingSchedule, resize_photos
from stylenet.lit.style_module import StyleTransferModule
from stylenet.losses import PerceptualLoss
from stylenet.nn.transformer import TransformerNet


def test_constant_rate_is_the_peak_at_every_step() -> None:
    schedule = TrainingSchedule(total_steps=10)
    assert [schedule.lr_factor(s) for s in (0, 5, 10, 50)] == [1.0] * 4


def test_cosine_falls_from_the_peak_to_lr_min_monotonically() -> None:
    schedule = TrainingSchedule(total_steps=100, lr="cosine", lr_min=0.1)
    factors = [schedule.lr_factor(s) for s in range(101)]
    assert factors[0] == pytest.approx(1.0)
    assert factors[50] == pytest.approx(0.55)  # halfway: the mean of peak and floor
    assert factors[100] == pytest.approx(0.1)
    assert all(a >= b for a, b in itertools.pairwise(factors))
    assert schedule.lr_factor(150) == pytest.approx(0.1)  # past the end: the floor


def test_coarse_steps_come_first_then_full_size() -> None:
    schedule = TrainingSchedule(total_steps=8, coarse_fraction=0.75, coarse_scale=0.5)
    assert schedule.coarse_steps == 6
    assert [schedule.photo_scale(s) for s in range(8)] == [0.5] * 6 + [1.0] * 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"total_steps": 0}, "total_steps"),
        ({"total_steps": 5, "lr": "step"}, "schedule.lr must be one of constant, cosine"),
        ({"total_steps": 5, "lr_min": 1.5}, "lr_min"),
        ({"total_steps": 5, "coarse_fraction": 1.0}, "coarse_fraction"),
        ({"total_steps": 5, "coarse_scale": 0.0}, "coarse_scale"),
    ],
)
def test_bad_values_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrainingSchedule(**kwargs)


def test_resize_photos_scales_and_keeps_the_input() -> None:
    photos = torch.rand(2, 3, 64, 48)
    before = photos.clone()
    small = resize_photos(photos, 0.5)
    assert small.shape == (2, 3, 32, 24)
    assert torch.equal(photos, before)
    assert resize_photos(photos, 1.0) is photos
    # antialiased: a flat colour stays that colour
    flat = torch.full((1, 3, 40, 40), 0.3)
    torch.testing.assert_close(resize_photos(flat, 0.5), torch.full((1, 3, 20, 20), 0.3))


class Recording(PerceptualLoss):
    def __init__(self) -> None:
        super().__init__(["relu1_1"], ["relu1_1"], weights="random")
        self.sizes: list[tuple[int, int]] = []

    def content_targets(self, images):  # type: ignore[override]
        self.sizes.append(tuple(images.shape[-2:]))
        return super().content_targets(images)


@pytest.mark.slow
def test_the_module_trains_coarse_steps_on_downscaled_photos() -> None:
    loss = Recording()
    loss.set_styles([torch.rand(3, 48, 48)])
    net = TransformerNet(width=0.25, num_res_blocks=1)
    schedule = TrainingSchedule(total_steps=4, coarse_fraction=0.5, coarse_scale=0.5)
    module = StyleTransferModule(net, loss, ["s"], channels_last=False, schedule=schedule)
    batch = torch.rand(2, 3, 64, 64)
    for step in range(4):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(type(module), "global_step", property(lambda self, s=step: s))
            patch.setattr(module, "log_dict", lambda *a, **k: None)
            module.training_step(batch, step)
    assert loss.sizes == [(32, 32), (32, 32), (64, 64), (64, 64)]


def test_cosine_gives_the_optimizer_a_per_step_scheduler() -> None:
    loss = PerceptualLoss(["relu1_1"], ["relu1_1"], weights="random")
    loss.set_styles([torch.rand(3, 48, 48)])
    net = TransformerNet(width=0.25, num_res_blocks=1)
    plain = StyleTransferModule(net, loss, ["s"], lr=0.01, channels_last=False)
    assert isinstance(plain.configure_optimizers(), torch.optim.Adam)
    schedule = TrainingSchedule(total_steps=10, lr="cosine", lr_min=0.2)
    module = StyleTransferModule(net, loss, ["s"], lr=0.01, channels_last=False, schedule=schedule)
    config = module.configure_optimizers()
    scheduler = config["lr_scheduler"]["scheduler"]
    assert config["lr_scheduler"]["interval"] == "step"
    for _ in range(10):
        config["optimizer"].step()
        scheduler.step()
    assert config["optimizer"].param_groups[0]["lr"] == pytest.approx(0.002)
    assert math.isclose(schedule.lr_factor(0), 1.0)
