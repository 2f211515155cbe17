from __future__ import annotations

import pytest
import torch

from stylenet.errors import ConfigError
from stylenet.nn.extend import (
    add_styles,
    norm_parameters,
    single_style,
    style_count,
    train_only_styles,
)
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


def test_single_style_stylizes_as_the_chosen_style_of_the_base() -> None:
    base = randomized(TransformerNet(0.125, 1, "conditional_instance", 3)).eval()
    with torch.no_grad():
        for name, parameter in base.named_parameters():
            if name.endswith(("gamma", "beta")):
                parameter.copy_(torch.rand_like(parameter) + 0.5)  # distinct rows per style
    image = torch.rand(2, 3, 36, 40) * 255
    single = single_style(base, [1]).eval()
    assert single.config["norm"] == "instance" and not single.is_multi_style
    with torch.no_grad():
        expected = base(image, torch.eye(3)[1].expand(2, -1))
        assert torch.allclose(single(image), expected, atol=1e-3)
        assert not torch.allclose(single(image), base(image, torch.eye(3)[0].expand(2, -1)))


def test_single_style_starts_from_the_mean_of_the_chosen_styles() -> None:
    base = randomized(TransformerNet(0.125, 1, "conditional_instance", 3))
    single = single_style(base, [0, 2])
    norm = single.encoder[0].norm.norm
    rows = base.encoder[0].norm
    assert torch.allclose(norm.weight, rows.gamma[[0, 2]].mean(0))
    assert torch.allclose(norm.bias, rows.beta[[0, 2]].mean(0))
    assert torch.equal(single.encoder[0].conv.weight, base.encoder[0].conv.weight)
    with pytest.raises(ConfigError, match=r"among 0\.\.2"):
        single_style(base, [3])
    with pytest.raises(ConfigError, match=r"among 0\.\.2"):
        single_style(base, [])


def test_norm_parameters_are_the_norm_layers_affine_weights() -> None:
    net = TransformerNet(0.125, 1)
    names = {id(p): n for n, p in net.named_parameters()}
    found = [names[id(p)] for p in norm_parameters(net)]
    assert found and all(".norm." in n for n in found)
    assert len(found) == sum(".norm." in n for n in names.values())
    assert style_count(net) == 1
    assert style_count(TransformerNet(0.125, 1, "conditional_instance", 4)) == 4
