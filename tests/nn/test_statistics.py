from __future__ import annotations

import pytest
import torch

from stylenet.nn.transformer import TransformerNet


def tiny(**kwargs) -> TransformerNet:
    torch.manual_seed(0)
    return TransformerNet(width=0.125, num_res_blocks=1, **kwargs).eval()


def multi() -> TransformerNet:
    net = tiny(norm="conditional_instance", num_styles=2)
    with torch.no_grad():
        for module in net.modules():
            if hasattr(module, "gamma"):
                module.gamma.uniform_(0.3, 1.7)
                module.beta.normal_(0.0, 0.5)
    return net


def test_layout_matches_the_reported_statistics() -> None:
    net = tiny()
    _, observed = net.forward_statistics(torch.rand(2, 3, 36, 44) * 255)
    assert observed.shape == (2, 2 * sum(net.statistics_channels()))
    assert len(net.statistics_channels()) == 3 + 2 * 1 + 2  # encoder, residual, decoder norms


@pytest.mark.slow
@pytest.mark.parametrize("make", [tiny, multi])
def test_own_statistics_or_nan_reproduce_plain_instance_norm(make) -> None:
    net = make()
    image = torch.rand(2, 3, 37, 45) * 255
    weights = torch.tensor([[0.3, 0.7], [1.0, 0.0]]) if net.is_multi_style else None
    with torch.inference_mode():
        plain = net(image, weights)
        out, observed = net.forward_statistics(image, weights)
        given = net(image, weights, statistics=observed)
        nan = net(image, weights, statistics=torch.full((1, observed.shape[1]), float("nan")))
    for other in (out, given, nan):
        assert (other - plain).abs().max() < 1e-3


@pytest.mark.slow
@pytest.mark.parametrize("make", [tiny, multi])
def test_given_statistics_change_the_result_and_make_crops_agree(make) -> None:
    net = make()
    image = torch.rand(1, 3, 64, 96) * 255
    image[..., 48:] *= 0.3  # a dark strip: its crop's own statistics differ
    weights = torch.tensor([[0.5, 0.5]]) if net.is_multi_style else None
    with torch.inference_mode():
        _, whole = net.forward_statistics(image, weights)
        full = net(image, weights, statistics=whole)
        crop = image[..., 40:]
        own = net(crop, weights)
        shared = net(crop, weights, statistics=whole)
    inner = (slice(None), slice(None), slice(8, None), slice(8, -8))  # away from crop borders
    err_own = (own - full[..., 40:])[inner].abs().mean()
    err_shared = (shared - full[..., 40:])[inner].abs().mean()
    assert err_shared < 0.5 * err_own
