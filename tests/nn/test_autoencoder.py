"""The arbitrary-style autoencoder: shapes, odd sizes, and the photo-only training loss."""

from __future__ import annotations

import pytest
import torch

from stylenet.errors import ConfigError
from stylenet.nn.autoencoder import AutoencoderConfig, StyleAutoencoder


def test_reconstruction_keeps_any_size_and_range() -> None:
    net = StyleAutoencoder(AutoencoderConfig(widths=(4, 4, 8, 8))).eval()
    image = torch.rand(2, 3, 37, 50) * 255
    with torch.no_grad():
        out = net(image)
    assert out.shape == image.shape
    assert float(out.min()) >= 0.0 and float(out.max()) <= 255.0
    assert net.encoder(torch.zeros(1, 3, 64, 96)).shape == (1, 8, 8, 12)


def test_bad_widths_are_refused() -> None:
    with pytest.raises(ConfigError, match="widths"):
        AutoencoderConfig(widths=(4, 0, 8, 8))


@pytest.mark.slow
def test_training_loss_goes_down() -> None:
    from stylenet.lit.autoencoder import AutoencoderModule

    torch.manual_seed(0)
    module = AutoencoderModule(widths=(4, 8, 8, 16), vgg_weights="random")
    photos = torch.rand(2, 3, 32, 32)
    optimizer = module.configure_optimizers()
    first = float(module.losses(photos)["loss"].detach())
    for _ in range(20):
        optimizer.zero_grad()
        module.losses(photos)["loss"].backward()
        optimizer.step()
    assert float(module.losses(photos)["loss"].detach()) < first
