from __future__ import annotations

import torch

from stylenet.nn.norms import ConditionalInstanceNorm2d, InstanceNorm


def test_instance_norm_normalises_each_image_and_channel() -> None:
    x = torch.randn(2, 4, 8, 8) * 5 + 3
    out = InstanceNorm(4)(x)
    assert torch.allclose(out.mean(dim=(2, 3)), torch.zeros(2, 4), atol=1e-5)
    assert torch.allclose(out.std(dim=(2, 3), unbiased=False), torch.ones(2, 4), atol=1e-3)


def test_conditional_norm_one_hot_equals_that_style_and_mixes_linearly() -> None:
    norm = ConditionalInstanceNorm2d(4, num_styles=2)
    with torch.no_grad():
        norm.gamma.copy_(torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.5, 0.5, 0.5, 0.5]]))
        norm.beta.copy_(torch.tensor([[0.0, 1.0, 0.0, 1.0], [2.0, 2.0, 2.0, 2.0]]))
    x = torch.randn(1, 4, 6, 6)
    normalized = torch.nn.functional.instance_norm(x)
    a = norm(x, torch.tensor([[1.0, 0.0]]))
    b = norm(x, torch.tensor([[0.0, 1.0]]))
    expected_a = normalized * norm.gamma[0].view(1, 4, 1, 1) + norm.beta[0].view(1, 4, 1, 1)
    assert torch.allclose(a, expected_a, atol=1e-5)
    mid = norm(x, torch.tensor([[0.25, 0.75]]))
    assert torch.allclose(mid, 0.25 * a + 0.75 * b, atol=1e-5)
