from __future__ import annotations

import pytest
import torch

from stylenet.losses.tv import TotalVariation, total_variation


def test_tv_zero_on_constant_and_positive_on_noise() -> None:
    flat = torch.full((2, 3, 8, 8), 0.4)
    assert torch.all(total_variation(flat) == 0)
    assert torch.all(total_variation(torch.rand(2, 3, 8, 8)) > 0)
    assert torch.all(total_variation(flat, beta=2.0) < 1e-6)


def test_tv_beta_form_matches_formula() -> None:
    image = torch.rand(1, 1, 5, 5)
    dx = image[..., :-1, 1:] - image[..., :-1, :-1]
    dy = image[..., 1:, :-1] - image[..., :-1, :-1]
    expected = ((dx**2 + dy**2 + 1e-8) ** 1.0).mean()
    torch.testing.assert_close(TotalVariation(beta=2.0)(image), expected.view(1))


def test_tv_gradient_smooths() -> None:
    image = torch.rand(1, 3, 16, 16, requires_grad=True)
    optimizer = torch.optim.SGD([image], lr=0.01)
    start = total_variation(image).item()
    for _ in range(20):
        optimizer.zero_grad()
        total_variation(image).sum().backward()
        optimizer.step()
    assert total_variation(image).item() < start


@pytest.mark.parametrize("beta", [None, 1.5, 2.0])
def test_tv_gradient_matches_finite_differences_in_float64(beta: float | None) -> None:
    image = torch.rand(2, 3, 6, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: total_variation(x, beta), (image,))
