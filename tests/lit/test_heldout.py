from __future__ import annotations

import copy
import threading
from pathlib import Path

import pytest
import torch
from PIL import Image

from stylenet.lit.heldout import CSV_NAME, CURVE_NAME, HeldOutEvaluation, heldout_losses
from stylenet.lit.style_module import StyleTransferModule
from stylenet.losses import PerceptualLoss
from stylenet.nn.transformer import TransformerNet


def make_module(num_styles: int = 1) -> StyleTransferModule:
    norm = "conditional_instance" if num_styles > 1 else "instance"
    net = TransformerNet(width=0.125, num_res_blocks=1, norm=norm, num_styles=num_styles)
    loss = PerceptualLoss(
        ["relu2_1"], ["relu1_1", "relu2_1"], style_weight=1e4, tv_weight=1e-2, weights="random"
    )
    loss.set_styles([torch.rand(3, 40, 40) for _ in range(num_styles)])
    return StyleTransferModule(net, loss, [f"s{i}" for i in range(num_styles)], channels_last=False)


@pytest.mark.slow
def test_heldout_losses_are_the_mean_content_and_style_loss_without_tv() -> None:
    module = make_module()
    photos = [torch.rand(3, 36, 44), torch.rand(3, 40, 32)]  # sizes may differ
    result = heldout_losses(module, photos)
    with torch.no_grad():
        terms = [module.compute_loss(p[None], None)[0] for p in photos]
    content = sum(float(t.content) for t in terms) / 2
    style = sum(float(t.style) for t in terms) / 2
    assert result["content"] == pytest.approx(content, rel=1e-5)
    assert result["style"] == pytest.approx(style, rel=1e-5)
    assert result["loss"] == pytest.approx(content + style, rel=1e-5)
    assert all(float(t.tv) > 0 for t in terms)  # TV exists but is not part of the score
    assert module.net.training  # the network's mode is restored


@pytest.mark.slow
def test_multi_style_scores_every_trained_style() -> None:
    module = make_module(num_styles=3)
    module.train_styles = [0, 2]  # the loss holds one target per trained style
    module.loss.set_styles([torch.rand(3, 40, 40), torch.rand(3, 40, 40)])
    photos = [torch.rand(3, 36, 36)]
    result = heldout_losses(module, photos)
    assert set(result) == {"content", "style", "loss", "style/s0", "style/s2"}
    assert result["style"] == pytest.approx((result["style/s0"] + result["style/s2"]) / 2)
    assert result["style/s0"] != result["style/s2"]


class FakeTrainer:
    """What the callback reads of a Lightning Trainer."""

    def __init__(self) -> None:
        self.global_step = 0
        self.global_rank = 0
        self.world_size = 1
        self.is_global_zero = True
        self.sanity_checking = False
        self.loggers: list = []


def test_curve_points_files_and_state_survive_a_restart(tmp_path: Path) -> None:
    module = make_module()
    photos = [torch.rand(3, 36, 36)]
    trainer = FakeTrainer()
    first = HeldOutEvaluation(photos, every=2, output=tmp_path, label="1 photo")
    first.on_train_start(trainer, module)  # step 0: the starting point
    for step in (1, 2, 3, 4):
        trainer.global_step = step
        first.on_train_batch_end(trainer, module)
    assert [p["step"] for p in first.points] == [0, 2, 4]
    first.on_train_end(trainer, module)  # step 4 was scored already
    assert [p["step"] for p in first.points] == [0, 2, 4]
    rows = (tmp_path / CSV_NAME).read_text().splitlines()
    assert rows[0].split(",")[:5] == ["step", "minutes", "content", "style", "loss"]
    assert len(rows) == 4
    with Image.open(tmp_path / CURVE_NAME) as curve:
        assert curve.format == "PNG" and curve.size == (800, 480)
    state = first.state_dict()
    assert state["seconds"] > 0

    second = HeldOutEvaluation(photos, every=2, output=tmp_path)
    second.load_state_dict(state)
    second.on_train_start(trainer, module)  # resumed at step 4: no new point
    trainer.global_step = 6
    second.on_train_batch_end(trainer, module)
    assert [p["step"] for p in second.points] == [0, 2, 4, 6]
    assert second.points[:3] == first.points
    minutes = [p["minutes"] for p in second.points]
    assert minutes == sorted(minutes) and minutes[3] * 60 >= state["seconds"]


def test_a_checkpoint_without_its_state_starts_the_clock_at_its_training_time(
    tmp_path: Path,
) -> None:
    callback = HeldOutEvaluation([torch.rand(3, 36, 36)], every=1, output=tmp_path)
    checkpoint = {"hyper_parameters": {"facts": {"train_seconds": 600.0}}}
    callback.on_load_checkpoint(FakeTrainer(), make_module(), checkpoint)
    assert 600.0 <= callback.training_seconds() < 660.0


class SummingStrategy:
    """``reduce(t, "sum")`` over ``parties`` threads, as a gloo all-reduce over processes."""

    def __init__(self, parties: int) -> None:
        self.barrier = threading.Barrier(parties)
        self.tensors: dict[int, torch.Tensor] = {}

    def reduce(self, tensor: torch.Tensor, reduce_op: str) -> torch.Tensor:
        assert reduce_op == "sum"
        self.tensors[threading.get_ident()] = tensor
        self.barrier.wait()
        total = torch.stack(list(self.tensors.values())).sum(0)
        self.barrier.wait()
        return total


def test_processes_score_shares_and_only_rank_zero_writes(tmp_path: Path) -> None:
    module = make_module(num_styles=2)
    photos = [torch.rand(3, 36, 36), torch.rand(3, 40, 32), torch.rand(3, 32, 40)]
    expected = heldout_losses(module, photos)
    strategy = SummingStrategy(parties=2)
    callbacks, errors = {}, []

    def process(rank: int) -> None:
        trainer = FakeTrainer()
        trainer.global_rank, trainer.world_size = rank, 2
        trainer.is_global_zero = rank == 0
        trainer.strategy = strategy
        callbacks[rank] = HeldOutEvaluation(photos, every=1, output=tmp_path / str(rank))
        try:
            callbacks[rank].on_train_start(trainer, copy.deepcopy(module))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=process, args=(rank,)) for rank in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    for rank in (0, 1):  # both hold the point of all three photos (the same on every process)
        (point,) = callbacks[rank].points
        for key, value in expected.items():
            assert point[key] == pytest.approx(value, rel=1e-6), (rank, key)
    assert (tmp_path / "0" / CSV_NAME).is_file() and not (tmp_path / "1").exists()


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at least one photo"):
        HeldOutEvaluation([], every=1, output=".")
    with pytest.raises(ValueError, match="interval"):
        HeldOutEvaluation([torch.rand(3, 36, 36)], every=0, output=".")
