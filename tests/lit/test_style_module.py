from __future__ import annotations

import pytest
import torch

from stylenet.lit.style_module import StyleTransferModule
from stylenet.losses import PerceptualLoss
from stylenet.nn.transformer import TransformerNet


def make_module(num_styles: int = 1, lr: float = 1e-3) -> StyleTransferModule:
    norm = "conditional_instance" if num_styles > 1 else "instance"
    net = TransformerNet(width=0.25, num_res_blocks=1, norm=norm, num_styles=num_styles)
    loss = PerceptualLoss(
        ["relu2_1"], ["relu1_1", "relu2_1"], style_weight=1e4, tv_weight=1e-2, weights="random"
    )
    loss.set_styles([torch.rand(3, 48, 48) for _ in range(num_styles)])
    names = [f"s{i}" for i in range(num_styles)]
    return StyleTransferModule(net, loss, names, lr=lr, channels_last=False)


@pytest.mark.slow
def test_overfits_a_fixed_batch() -> None:
    module = make_module()
    optimizer = module.configure_optimizers()
    batch = torch.rand(2, 3, 40, 40)
    losses = []
    for _ in range(20):
        optimizer.zero_grad()
        terms, _ = module.compute_loss(batch, None)
        total = terms.total.mean()
        total.backward()
        optimizer.step()
        losses.append(total.item())
    assert losses[-1] < 0.5 * losses[0]


def test_gradients_reach_the_network_but_not_vgg() -> None:
    module = make_module()
    vgg_before = {name: b.clone() for name, b in module.loss.vgg.named_buffers()}
    assert vgg_before, "the VGG weights are buffers of the loss network"
    optimizer = module.configure_optimizers()
    terms, stylized = module.compute_loss(torch.rand(2, 3, 36, 36), None)
    terms.total.mean().backward()
    optimizer.step()
    assert stylized.shape == (2, 3, 36, 36)
    assert all(p.grad is not None for p in module.net.parameters())
    optimised = {id(p) for group in optimizer.param_groups for p in group["params"]}
    assert optimised == {id(p) for p in module.net.parameters()}
    for name, buffer in module.loss.vgg.named_buffers():
        assert not buffer.requires_grad and buffer.grad is None
        torch.testing.assert_close(buffer, vgg_before[name], rtol=0, atol=0)


def test_multi_style_draws_one_hot_rows_from_the_training_styles() -> None:
    module = make_module(num_styles=3)
    module.train_styles = [1, 2]
    weights = module.sample_style_weights(64)
    assert weights.shape == (64, 3)
    assert torch.equal(weights.sum(dim=1), torch.ones(64))
    assert weights[:, 0].sum() == 0 and weights[:, 1].sum() > 0 and weights[:, 2].sum() > 0


def test_checkpoint_hyperparameters_follow_the_contract() -> None:
    module = make_module(num_styles=2)
    assert module.hparams["styles"] == ["s0", "s1"]
    assert module.hparams["model"]["norm"] == "conditional_instance"
    assert all(key.startswith("net.") for key in module.state_dict())


def test_style_draws_depend_on_seed_and_step_only() -> None:
    module = make_module(num_styles=3)
    module.seed = 5
    first = module.sample_style_weights(16)
    assert torch.equal(first, module.sample_style_weights(16))  # not the global RNG
    torch.rand(10)
    assert torch.equal(first, module.sample_style_weights(16))
    module.seed = 6
    assert not torch.equal(first, module.sample_style_weights(16))
