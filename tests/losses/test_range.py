from __future__ import annotations

import torch

from stylenet.losses import RangePenalty, range_penalty


def test_zero_inside_the_range_and_squared_excess_outside() -> None:
    inside = torch.rand(2, 3, 8, 8)
    assert torch.equal(range_penalty(inside), torch.zeros(2))
    image = torch.full((1, 3, 2, 2), 0.5)
    image[0, 0, 0, 0] = 1.5  # 0.5 too bright
    image[0, 1, 1, 1] = -0.25  # 0.25 too dark
    torch.testing.assert_close(range_penalty(image), torch.tensor([0.25 + 0.0625]))
    torch.testing.assert_close(RangePenalty(0.0, 2.0)(image), torch.tensor([0.0625]))


def test_the_gradient_pushes_pixels_back_into_range() -> None:
    image = torch.tensor([[[[-0.5, 0.5, 1.5]]]], requires_grad=True)
    range_penalty(image).sum().backward()
    assert image.grad is not None
    assert image.grad[0, 0, 0].tolist() == [-1.0, 0.0, 1.0]  # descent raises, keeps, lowers


def test_gradient_matches_finite_differences_in_float64() -> None:
    # pixels on both sides of the range, none within finite-difference reach of a bound
    values = torch.tensor([-0.6, -0.2, 0.1, 0.5, 0.9, 1.3, 1.8], dtype=torch.float64)
    image = values[torch.randperm(7)].repeat(2, 3, 2, 1).clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: range_penalty(x, 0.0, 1.0), (image,))
