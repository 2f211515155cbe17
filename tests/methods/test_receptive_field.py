"""Receptive fields from a walk over the layers, against VGG's known values and against the
support of an input gradient (first principles)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from stylenet.errors import ConfigError
from stylenet.methods.receptive_field import (
    SpatialOp,
    check_ops,
    module_ops,
    receptive_field,
    vgg_ops,
)
from stylenet.nn.vgg import VGGFeatures


def expected_vgg(blocks: tuple[int, ...]) -> dict[str, int]:
    """By hand: a 3×3 conv adds 2·jump, a 2×2/2 pool adds 1·jump and doubles the jump."""
    sizes, size, jump = {}, 1, 1
    for b, count in enumerate(blocks, start=1):
        if b > 1:
            size, jump = size + jump, jump * 2
        for c in range(1, count + 1):
            size += 2 * jump
            sizes[f"relu{b}_{c}"] = size
        sizes[f"pool{b}"] = size + jump
    return sizes


def test_hand_rule_gives_the_published_vgg16_numbers() -> None:
    # Araujo et al. 2019 (Distill), table for VGG-16.
    sizes = expected_vgg((2, 2, 3, 3, 3))
    assert [sizes[n] for n in ("relu1_1", "relu1_2", "pool1", "relu2_1", "relu3_1")] == [
        3, 5, 6, 10, 24,
    ]  # fmt: skip
    assert sizes["pool5"] == 212


@pytest.mark.parametrize(
    ("weights", "blocks", "deepest"),
    [("random_vgg16", (2, 2, 3, 3, 3), "relu5_3"), ("random", (2, 2, 4, 4, 4), "relu5_4")],
)
def test_vgg_walk_matches_known_values(weights: str, blocks: tuple[int, ...], deepest: str) -> None:
    vgg = VGGFeatures([deepest], weights=weights)
    expected = expected_vgg(blocks)
    got = {name: receptive_field(vgg_ops(vgg, name)).size for name in expected}
    assert got == expected
    assert got["relu1_1"] == 3 and got["relu1_2"] == 5 and got["pool1"] == 6
    assert got["relu2_1"] == 10 and got["relu3_1"] == 24
    assert receptive_field(vgg_ops(vgg, "conv3_1")) == receptive_field(vgg_ops(vgg, "relu3_1"))
    assert receptive_field(vgg_ops(vgg, "relu5_1")).jump == 16


def test_unknown_vgg_layer_is_a_config_error() -> None:
    vgg = VGGFeatures(["relu2_1"], weights="random")
    with pytest.raises(ConfigError, match="relu1_1"):
        vgg_ops(vgg, "relu4_1")


def ones_network(ops: list[SpatialOp]) -> nn.Sequential:
    """Convs with all-one weights and average pools: every input pixel in a unit's window
    has a positive gradient, every other has zero."""
    layers: list[nn.Module] = []
    for op in ops:
        if op.kernel == op.stride and op.padding == 0:
            layers.append(nn.AvgPool2d(op.kernel, op.stride))
        else:
            conv = nn.Conv2d(1, 1, op.kernel, op.stride, op.padding, op.dilation, bias=False)
            nn.init.ones_(conv.weight)
            layers.append(conv)
    return nn.Sequential(*layers)


@pytest.mark.parametrize("layer", ["relu1_2", "relu2_1", "relu3_1", "relu3_2"])
def test_field_equals_the_input_gradient_support(layer: str) -> None:
    vgg = VGGFeatures([layer], weights="random")
    ops = vgg_ops(vgg, layer)
    field = receptive_field(ops)
    net = ones_network(ops)
    x = torch.zeros(1, 1, 96, 96, requires_grad=True)
    out = net(x)
    y, xx = out.shape[-2] // 2, out.shape[-1] // 2 + 1
    out[0, 0, y, xx].backward()
    rows = torch.nonzero(x.grad[0, 0].abs().sum(1)).flatten()
    cols = torch.nonzero(x.grad[0, 0].abs().sum(0)).flatten()
    top, left, bottom, right = field.box(y, xx)
    assert (int(rows[0]), int(rows[-1]) + 1) == (top, bottom)
    assert (int(cols[0]), int(cols[-1]) + 1) == (left, right)
    assert bottom - top == field.size


def test_module_walk_of_a_chain_and_dilation() -> None:
    chain = nn.Sequential(
        nn.Conv2d(3, 4, 5, stride=2, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(3, stride=2),
        nn.Conv2d(4, 4, 3, padding=2, dilation=2),
    )
    ops = module_ops(chain, "3")
    assert ops == [SpatialOp(5, 2, 2), SpatialOp(3, 2, 0), SpatialOp(3, 1, 2, 2)]
    # 1 + 4·1 = 5; + 2·2 = 9; + (2·2)·4 = 25
    assert receptive_field(ops).size == 25
    out = chain(torch.zeros(1, 3, 64, 64))
    check_ops(ops, 64, out.shape[-1], "3")
    assert receptive_field(module_ops(chain, "1")).size == 5


def test_a_branching_network_is_refused() -> None:
    import torchvision

    net = torchvision.models.resnet18(weights=None).eval()
    ops = module_ops(net, "layer2")
    with torch.no_grad():
        feature = nn.Sequential(*list(net.children())[:6])(torch.zeros(1, 3, 64, 64))
    with pytest.raises(ConfigError, match="branches"):
        check_ops(ops, 64, feature.shape[-1], "layer2")


def test_inside_units_are_exactly_those_that_see_no_padding() -> None:
    from stylenet.methods.receptive_field import inside_units

    vgg = VGGFeatures(["relu4_1"], weights="random")
    field = receptive_field(vgg_ops(vgg, "relu4_1"))
    first, last = inside_units(field, 160)
    assert field.box(first, first)[0] >= 0 and field.box(first - 1, first - 1)[0] < 0
    assert field.box(last, last)[2] <= 160 and field.box(last + 1, last + 1)[2] > 160
    assert inside_units(field, 40) is None  # a 68-px field never fits in 40 px
