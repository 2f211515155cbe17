"""Grad-CAM and occlusion find the region that drives the score."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from stylenet.errors import ConfigError
from stylenet.methods.gradcam import gradcam, last_spatial_layer
from stylenet.methods.occlusion import occlusion, patch_starts


def red_detector() -> nn.Module:
    """Score 0 = pooled "redness" ReLU(r - g - b); score 1 = pooled greyness (N×3×H×W → N×2)."""
    conv = nn.Conv2d(3, 2, 1)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[1.0, -1.0, -1.0], [0.3, 0.3, 0.3]]).view(2, 3, 1, 1))
        conv.bias.zero_()
    head = nn.Linear(2, 2)
    with torch.no_grad():
        head.weight.copy_(torch.eye(2))
        head.bias.zero_()
    smooth = nn.Conv2d(2, 2, 3, padding=1, groups=2, bias=False)
    with torch.no_grad():
        smooth.weight.fill_(1 / 9)
    return nn.Sequential(
        conv, nn.ReLU(), smooth, nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), head
    ).eval()


def grey_with_red_square(top: int, left: int, size: int = 8) -> torch.Tensor:
    image = torch.full((1, 3, 32, 32), 0.4)
    image[0, :, top : top + size, left : left + size] = torch.tensor([0.9, 0.1, 0.1]).view(3, 1, 1)
    return image


@pytest.mark.parametrize(("top", "left"), [(2, 3), (20, 18)])
def test_gradcam_peaks_on_the_red_square(top: int, left: int) -> None:
    model = red_detector()
    image = grey_with_red_square(top, left)
    cam, layer = gradcam(model, image, target=0)
    assert layer == "3"  # the last ReLU: the last module with a spatial output
    assert cam.shape == (32, 32)
    y, x = divmod(int(cam.argmax()), 32)
    assert top <= y < top + 8 and left <= x < left + 8
    assert cam[top : top + 8, left : left + 8].mean() > 2 * cam.mean()


@pytest.mark.slow
def test_gradcam_on_a_resnet_uses_the_last_block() -> None:
    import torchvision

    model = torchvision.models.resnet18(num_classes=4).eval()
    image = torch.rand(1, 3, 64, 64)
    assert last_spatial_layer(model, image) == "layer4.1.relu"
    cam, _ = gradcam(model, image, target=2)
    assert cam.shape == (64, 64) and torch.all(cam >= 0)
    with pytest.raises(ConfigError, match="no layer"):
        gradcam(model, image, target=2, layer="layer9")


def test_occluding_the_only_informative_region_moves_the_score_most() -> None:
    torch.manual_seed(1)
    net = nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(6, 3),
    ).eval()

    class OnlyTopLeft(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            mask = torch.zeros_like(x)
            mask[..., :12, :12] = 1
            return net(x * mask)

    model = OnlyTopLeft()
    image = torch.rand(1, 3, 40, 40)
    heat = occlusion(model, image, target=1, patch=8, stride=4, batch_size=5)
    assert heat.shape == (40, 40)
    y, x = divmod(int(heat.abs().argmax()), 40)
    assert y < 12 and x < 12
    assert torch.all(heat[20:, :] == 0) and torch.all(heat[:, 20:] == 0)


def test_occlusion_lowers_the_score_where_the_evidence_is() -> None:
    model = red_detector()
    heat = occlusion(model, grey_with_red_square(4, 20), target=0, patch=8, stride=4)
    y, x = divmod(int(heat.argmax()), 32)
    assert 4 <= y < 12 and 20 <= x < 28
    assert heat.max() > 0


def test_patch_starts_cover_the_whole_side() -> None:
    assert patch_starts(10, 4, 3) == [0, 3, 6]
    assert patch_starts(11, 4, 3) == [0, 3, 6, 7]
    assert patch_starts(3, 8, 2) == [0]
    with pytest.raises(ConfigError):
        occlusion(red_detector(), grey_with_red_square(0, 0), 0, patch=0)
