from __future__ import annotations

import torch

from stylenet.lit.finetune_gate import FACT, FinetuneGate
from stylenet.lit.heldout import heldout_losses
from stylenet.lit.style_module import StyleTransferModule
from stylenet.losses import PerceptualLoss
from stylenet.nn.transformer import TransformerNet

SWITCH, LAST = 3, 5


def make_module() -> StyleTransferModule:
    torch.manual_seed(0)
    net = TransformerNet(width=0.125, num_res_blocks=1)
    loss = PerceptualLoss(
        ["relu2_1"], ["relu1_1", "relu2_1"], style_weight=1e4, tv_weight=1e-2, weights="random"
    )
    loss.set_styles([torch.rand(3, 40, 40)])
    return StyleTransferModule(
        net, loss, ["s"], channels_last=False, facts={"new_style": {}}, norms_only_steps=SWITCH
    )


class FakeTrainer:
    """What the gate reads of a Lightning Trainer."""

    def __init__(self) -> None:
        self.global_step = 0
        self.max_steps = LAST


def spoil(net: torch.nn.Module) -> None:
    """What bad whole-network steps do: the convolutions far from where they were."""
    with torch.no_grad():
        for name, parameter in net.named_parameters():
            if ".norm." not in name:
                parameter.add_(torch.randn_like(parameter))


def walk(gate: FinetuneGate, module: StyleTransferModule, trainer: FakeTrainer, steps) -> None:
    """Lightning's calls around the optimiser steps ``steps`` (``change`` stands for one)."""
    for step, change in steps:
        trainer.global_step = step - 1
        gate.on_train_batch_start(trainer, module)
        change(module.net)
        trainer.global_step = step
        gate.on_train_batch_end(trainer, module)


def test_worse_whole_network_steps_are_dropped() -> None:
    module = make_module()
    photos = [torch.rand(3, 36, 36)]
    gate = FinetuneGate(photos, label="1 photo")
    trainer = FakeTrainer()
    walk(gate, module, trainer, [(s, lambda net: None) for s in range(1, SWITCH + 1)])
    at_switch = {k: v.clone() for k, v in module.net.state_dict().items()}
    score = heldout_losses(module, photos)["loss"]
    walk(gate, module, trainer, [(s, spoil) for s in range(SWITCH + 1, LAST + 1)])
    for key, value in module.net.state_dict().items():
        assert torch.equal(value, at_switch[key]), key
    verdict = module.hparams["facts"]["new_style"][FACT]
    assert verdict["kept"] is False and verdict["steps"] == LAST - SWITCH
    assert verdict["score_at_switch"] == round(score, 1)
    assert verdict["score_at_end"] > verdict["score_at_switch"]
    assert verdict["photos"] == "1 photo"
    assert gate.state_dict() == {"score": None, "weights": None}  # the last checkpoint is lean


def test_better_whole_network_steps_are_kept_and_a_resumed_gate_decides_the_same() -> None:
    module = make_module()
    photos = [torch.rand(3, 36, 36)]
    good = {k: v.clone() for k, v in module.net.state_dict().items()}
    gate = FinetuneGate(photos)
    trainer = FakeTrainer()
    walk(gate, module, trainer, [(s, lambda net: None) for s in range(1, SWITCH)])
    walk(gate, module, trainer, [(SWITCH, spoil)])  # a poor network at the switch
    walk(gate, module, trainer, [(SWITCH + 1, lambda net: None)])
    state = gate.state_dict()
    assert state["weights"] is not None and state["score"] is not None

    resumed = FinetuneGate(photos)  # a run resumed from the checkpoint of step SWITCH + 1
    resumed.load_state_dict(state)
    walk(resumed, module, trainer, [(LAST, lambda net: net.load_state_dict(good))])
    for key, value in module.net.state_dict().items():
        assert torch.equal(value, good[key]), key
    verdict = module.hparams["facts"]["new_style"][FACT]
    assert verdict["kept"] is True and verdict["score_at_end"] < verdict["score_at_switch"]


def test_a_run_without_a_switch_is_left_alone() -> None:
    module = make_module()
    module.norms_only_steps = 0
    gate = FinetuneGate([torch.rand(3, 36, 36)])
    trainer = FakeTrainer()
    walk(gate, module, trainer, [(s, lambda net: None) for s in range(1, LAST + 1)])
    assert FACT not in module.hparams["facts"]["new_style"] and gate.weights is None
