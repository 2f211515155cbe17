"""Train the arbitrary-style autoencoder on photos only (no paintings).

Loss (Li et al. 2017 for the decoder; Wang et al. 2020, Collaborative Distillation, for the
encoder): pixel L1 + VGG feature reconstruction of the decoded photo, plus the distillation
term that makes each encoder tap a linear image of the matching VGG-19 layer (scaled to unit
RMS) through a trainable 1×1 embedding (the embeddings are used only in training). The
reconstruction terms are relative (divided by the mean square of the VGG target), so the
weights are scale-free; they stop at ``relu3_1`` (the deep layers' backward pass is most of the
cost and the distillation already ties the bottleneck to ``relu4_1``).
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from torch import nn

from stylenet.nn.autoencoder import TEACHER_LAYERS, AutoencoderConfig, StyleAutoencoder
from stylenet.nn.vgg import VGGFeatures

RECONSTRUCTION_LAYERS = ("relu1_1", "relu2_1", "relu3_1")  # the decoded photo's VGG terms


def relative_mse(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``mean((output - target)²) / mean(target²)`` (scalar)."""
    return F.mse_loss(output, target) / target.detach().pow(2).mean().clamp_min(1e-8)


def unit_rms(target: torch.Tensor) -> torch.Tensor:
    """``target`` divided by its root mean square (a constant: no gradient)."""
    return target / target.detach().pow(2).mean().sqrt().clamp_min(1e-8)


class AutoencoderModule(L.LightningModule):
    """Photo-only training of :class:`~stylenet.nn.autoencoder.StyleAutoencoder`.

    Batches: ``N×3×H×W`` RGB in [0, 1] (``H, W`` multiples of 8).
    """

    def __init__(
        self,
        *,
        widths: tuple[int, int, int, int] = (16, 32, 64, 128),
        vgg_weights: str = "vgg19_caffe",
        lr: float = 1e-3,
        pixel_weight: float = 1.0,
        feature_weight: float = 1.0,
        distill_weight: float = 1.0,
        noise: float = 0.0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = StyleAutoencoder(AutoencoderConfig(widths=tuple(widths)))  # type: ignore[arg-type]
        self.vgg = VGGFeatures(TEACHER_LAYERS, weights=vgg_weights)
        teacher_channels = {"relu1_1": 64, "relu2_1": 128, "relu3_1": 256, "relu4_1": 512}
        tap_channels = (widths[0], widths[1], widths[2], widths[3])
        self.embeddings = nn.ModuleList(
            nn.Conv2d(c, teacher_channels[name], 1)
            for c, name in zip(tap_channels, TEACHER_LAYERS, strict=True)
        )

    def losses(self, photos: torch.Tensor) -> dict[str, torch.Tensor]:
        """Loss terms for a batch of photos ``N×3×H×W`` in [0, 1]."""
        with torch.no_grad():
            target = self.vgg(photos)
        taps = self.net.encoder.forward_taps(photos * 255.0)
        distill = sum(
            F.mse_loss(embed(tap), unit_rms(target[name]))
            for embed, tap, name in zip(self.embeddings, taps, TEACHER_LAYERS, strict=True)
        ) / len(TEACHER_LAYERS)
        bottleneck = taps[-1]
        if self.hparams["noise"] > 0 and self.training:
            scale = bottleneck.detach().std(dim=(2, 3), keepdim=True)
            bottleneck = bottleneck + self.hparams["noise"] * scale * torch.randn_like(bottleneck)
        decoded = self.net.tail.forward_raw(self.net.head(bottleneck))
        pixel = F.l1_loss(decoded, photos)
        features = self.vgg(decoded.clamp(0.0, 1.0), layers=RECONSTRUCTION_LAYERS)
        feature = sum(
            relative_mse(features[name], target[name]) for name in RECONSTRUCTION_LAYERS
        ) / len(RECONSTRUCTION_LAYERS)
        total = (
            self.hparams["pixel_weight"] * pixel
            + self.hparams["feature_weight"] * feature
            + self.hparams["distill_weight"] * distill
        )
        return {"loss": total, "pixel": pixel, "feature": feature, "distill": distill}

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        terms = self.losses(batch)
        self.log_dict({f"train/{k}": v for k, v in terms.items()}, prog_bar=True)
        return terms["loss"]

    def validation_step(self, batch: torch.Tensor, batch_idx: int) -> None:
        terms = self.losses(batch)
        self.log_dict({f"val/{k}": v for k, v in terms.items()}, prog_bar=False)

    def configure_optimizers(self) -> Any:
        params = [*self.net.parameters(), *self.embeddings.parameters()]
        return torch.optim.Adam(params, lr=self.hparams["lr"])
