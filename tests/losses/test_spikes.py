from __future__ import annotations

import pytest
import torch

from stylenet.losses import NormSpikes, SpikePenalty, spike_penalty
from stylenet.nn.transformer import TransformerNet, is_instance_norm


def test_ordinary_activations_cost_nothing_and_a_spike_costs() -> None:
    smooth = torch.linspace(-1, 1, 64).view(1, 1, 8, 8).repeat(2, 3, 1, 1)
    assert torch.equal(spike_penalty(smooth), torch.zeros(2))  # within 4 σ everywhere
    spiked = smooth.clone()
    spiked[1, 2, 3, 3] = 100.0  # one localised spike in image 1, channel 2
    penalty = spike_penalty(spiked)
    assert penalty[0] == 0 and penalty[1] > 0
    # the spike sits ~7.9 σ from its channel's mean (one of 64 values): (7.9 - 4)² / (3·64)
    z = (spiked[1, 2] - spiked[1, 2].mean()) / spiked[1, 2].var(unbiased=False).add(1e-5).sqrt()
    expected = torch.relu(z.abs() - 4).square().sum() / (3 * 64)
    torch.testing.assert_close(penalty[1], expected)
    torch.testing.assert_close(SpikePenalty(limit=4.0)(spiked), penalty)
    assert SpikePenalty(limit=10.0)(spiked)[1] == 0  # a higher limit lets it pass


def test_the_penalty_ignores_shift_and_scale_and_reads_bf16_as_float() -> None:
    x = torch.randn(2, 4, 12, 12)
    x[0, 1, 5, 5] = 30.0
    torch.testing.assert_close(spike_penalty(3.0 * x + 7.0), spike_penalty(x), rtol=1e-4, atol=1e-6)
    low = spike_penalty(x.bfloat16())
    assert low.dtype == torch.float32
    torch.testing.assert_close(low, spike_penalty(x), rtol=0.05, atol=1e-3)


def test_gradient_matches_finite_differences_in_float64() -> None:
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64)
    x[0, 0, 2, 2] = 12.0
    x.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: spike_penalty(t, 2.0), (x,))


def test_descent_flattens_the_spike() -> None:
    torch.manual_seed(0)
    x = torch.randn(1, 1, 16, 16) * 0.1
    x[0, 0, 4, 4] = 1.0  # about 8 σ
    x.requires_grad_(True)
    before = spike_penalty(x, 3.0).item()
    optimizer = torch.optim.SGD([x], lr=0.05)
    for _ in range(100):
        optimizer.zero_grad()
        spike_penalty(x, 3.0).sum().backward()
        optimizer.step()
    assert spike_penalty(x, 3.0).item() < 0.05 * before
    assert x[0, 0, 4, 4] < 0.5  # by lowering the spike


@pytest.mark.slow
def test_norm_spikes_collects_every_norm_layer_in_training_with_gradients_only() -> None:
    torch.manual_seed(0)
    net = TransformerNet(width=0.125, num_res_blocks=1, norm="conditional_instance", num_styles=2)
    spikes = NormSpikes(net, limit=0.5)  # a low limit: random activations exceed it
    assert spikes.num_layers == sum(1 for m in net.modules() if is_instance_norm(m)) >= 5
    photo, weights = torch.rand(2, 3, 32, 32) * 255, torch.eye(2)
    with torch.no_grad():
        expected = net(photo, weights)
    assert spikes.pop().item() == 0  # no gradients: nothing collected
    out = net(photo, weights)
    torch.testing.assert_close(out, expected)  # the hooks only read
    total = spikes.pop()
    assert total.item() > 0 and total.requires_grad
    total.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
    assert spikes.pop().item() == 0  # popped
    net.eval()
    net(photo, weights)
    assert spikes.pop().item() == 0  # evaluation passes are not collected
    net.train()
    net(photo, weights)
    spikes.remove()
    assert spikes.pop().item() == 0  # removing forgets
    net(photo, weights)
    assert spikes.pop().item() == 0  # and the hooks are gone


def test_norm_spikes_refuses_a_network_without_instance_norm_and_a_negative_limit() -> None:
    with pytest.raises(ValueError, match="no instance-norm layer"):
        NormSpikes(TransformerNet(width=0.125, num_res_blocks=1, norm="batch"))
    with pytest.raises(ValueError, match=">= 0 standard deviations"):
        NormSpikes(TransformerNet(width=0.125, num_res_blocks=1), limit=-1)
