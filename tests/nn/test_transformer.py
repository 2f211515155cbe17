from __future__ import annotations

import pytest
import torch

from stylenet.errors import ConfigError
from stylenet.nn.transformer import TransformerNet, count_parameters
from tests.helpers.devices import requires_cuda


def tiny(**kwargs) -> TransformerNet:
    return TransformerNet(width=0.125, num_res_blocks=1, **kwargs)


@pytest.mark.parametrize(("height", "width"), [(32, 32), (33, 47), (61, 35), (64, 128)])
def test_any_size_at_least_32_keeps_its_size(height: int, width: int) -> None:
    out = tiny()(torch.rand(2, 3, height, width) * 255)
    assert out.shape == (2, 3, height, width)
    assert out.min() >= 0 and out.max() <= 255


def test_paper_widths_parameter_count() -> None:
    # Johnson et al. (2016): ~1.68 M parameters with instance-norm affine terms.
    assert 1_600_000 < count_parameters(TransformerNet()) < 1_750_000
    assert count_parameters(TransformerNet(width=0.5)) < count_parameters(TransformerNet()) / 3


def test_no_transposed_convolutions_and_reflection_padding() -> None:
    net = TransformerNet()
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in net.modules())
    assert all(m.padding == (0, 0) for m in net.modules() if isinstance(m, torch.nn.Conv2d))


def test_gradients_reach_every_parameter() -> None:
    net = tiny()
    net(torch.rand(1, 3, 36, 36) * 255).mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())


def test_input_is_not_modified() -> None:
    image = torch.rand(1, 3, 34, 34) * 255
    before = image.clone()
    tiny()(image)
    assert torch.equal(image, before)


def test_conditional_norm_network_uses_style_weights() -> None:
    net = tiny(norm="conditional_instance", num_styles=3)
    with torch.no_grad():
        for module in net.modules():
            if hasattr(module, "gamma"):
                module.gamma.uniform_(0.5, 1.5)
    image = torch.rand(1, 3, 40, 40) * 255
    a = net(image, torch.tensor([[1.0, 0.0, 0.0]]))
    b = net(image, torch.tensor([[0.0, 1.0, 0.0]]))
    assert net.is_multi_style and not torch.allclose(a, b)


def test_bad_config_values() -> None:
    with pytest.raises(ConfigError):
        TransformerNet(width=0)
    with pytest.raises(ConfigError):
        TransformerNet(norm="layer")
    with pytest.raises(ConfigError):
        TransformerNet(upsample="transposed")


def test_outer_kernel_option_keeps_sizes_and_defaults_to_the_paper() -> None:
    assert TransformerNet().encoder[0].conv.kernel_size == (9, 9)
    net = tiny(outer_kernel=5)
    assert net.encoder[0].conv.kernel_size == (5, 5) == net.decoder[-1].conv.kernel_size
    assert net(torch.rand(1, 3, 33, 47) * 255).shape == (1, 3, 33, 47)
    with pytest.raises(ConfigError, match="outer_kernel"):
        tiny(outer_kernel=4)


@requires_cuda
def test_bf16_autocast_on_cuda_stays_close_to_fp32_cpu() -> None:
    net = tiny(norm="conditional_instance", num_styles=2).eval()
    image, weights = 255 * torch.rand(2, 3, 40, 52), torch.tensor([[1.0, 0.0], [0.3, 0.7]])
    with torch.no_grad():
        expected = net(image, weights)
        gpu = net.to("cuda")
        with torch.autocast("cuda", dtype=torch.bfloat16):
            got = gpu(image.cuda(), weights.cuda()).float().cpu()
    assert got.shape == expected.shape
    assert (got - expected).abs().mean() < 2.0  # bf16 keeps ~3 significant digits, 0-255 scale
