from __future__ import annotations

import pytest
import torch

from stylenet.errors import ConfigError
from stylenet.nn.extend import add_styles, train_only_styles
from stylenet.nn.transformer import TransformerNet


def randomized(net: TransformerNet) -> TransformerNet:
    with torch.no_grad():
        for name, parameter in net.named_parameters():
            if name.endswith(("gamma", "beta", "norm.weight", "norm.bias")):
                parameter.uniform_(0.5, 1.5)
    return net


def test_added_style_keeps_old_styles_bit_for_bit() -> None:
    base = randomized(TransformerNet(0.125, 1, norm="conditional_instance", num_styles=2)).eval()
    extended = add_styles(base, 1).eval()
    image = torch.rand(2, 3, 40, 44) * 255
    with torch.no_grad():
        for index in range(2):
            old = base(image, torch.eye(2)[index].expand(2, -1))
            new = extended(image, torch.eye(3)[index].expand(2, -1))
            assert torch.equal(old, new)
    assert extended.num_styles == 3


def test_single_style_network_becomes_two_style() -> None:
    base = randomized(TransformerNet(0.125, 1)).eval()
    extended = add_styles(base, 2).eval()
    image = torch.rand(1, 3, 36, 36) * 255
    with torch.no_grad():
        old = base(image)
        new = extended(image, torch.tensor([[1.0, 0.0, 0.0]]))
    assert extended.num_styles == 3 and torch.allclose(old, new, atol=1e-3)


def test_training_only_new_rows_leaves_old_rows_and_convs_untouched() -> None:
    net = add_styles(randomized(TransformerNet(0.125, 1, "conditional_instance", 2)), 1)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    train_only_styles(net, [2])
    optimizer = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        net(torch.rand(2, 3, 36, 36) * 255, torch.tensor([[0.0, 0.0, 1.0]] * 2)).mean().backward()
        optimizer.step()
    after = net.state_dict()
    for key, value in before.items():
        if key.endswith(("gamma", "beta")):
            assert torch.equal(value[:2], after[key][:2]), key
            assert not torch.equal(value[2], after[key][2]), key
        else:
            assert torch.equal(value, after[key]), key


def test_bad_count() -> None:
    with pytest.raises(ConfigError):
        add_styles(TransformerNet(0.125, 1), 0)
    with pytest.raises(ConfigError):
        add_styles(TransformerNet(0.125, 1, norm="batch"), 1)


def test_only_multi_style_networks_train_single_styles() -> None:
    with pytest.raises(ConfigError, match="multi-style"):
        train_only_styles(TransformerNet(0.125, 1), [0])
