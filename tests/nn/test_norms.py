from __future__ import annotations

import pytest
import torch

from stylenet.nn.norms import ConditionalInstanceNorm2d, InstanceNorm, conditional_instance_norm


def test_instance_norm_normalises_each_image_and_channel() -> None:
    x = torch.randn(2, 4, 8, 8) * 5 + 3
    out = InstanceNorm(4)(x)
    torch.testing.assert_close(out.mean(dim=(2, 3)), torch.zeros(2, 4), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(
        out.std(dim=(2, 3), unbiased=False), torch.ones(2, 4), atol=1e-3, rtol=1e-5
    )


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
    torch.testing.assert_close(a, expected_a, atol=1e-5, rtol=1e-5)
    mid = norm(x, torch.tensor([[0.25, 0.75]]))
    torch.testing.assert_close(mid, 0.25 * a + 0.75 * b, atol=1e-5, rtol=1e-5)


@pytest.mark.slow
def test_conditional_instance_norm_gradients_in_float64() -> None:
    """Gradients with respect to the input, the style weights and every (γ, β) row."""
    x = torch.randn(2, 3, 5, 4, dtype=torch.float64, requires_grad=True)
    weights = torch.tensor([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0]], dtype=torch.float64)
    weights.requires_grad_(True)
    gamma = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    beta = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    output = conditional_instance_norm(x, weights, gamma, beta)
    assert output.dtype == torch.float64
    assert torch.autograd.gradcheck(conditional_instance_norm, (x, weights, gamma, beta))
