"""A narrow feature encoder and its decoder for arbitrary style transfer without style training.

Universal style transfer (Li et al. 2017) transforms frozen VGG features of a photo with the
whitening-colouring transform (WCT) of a painting's feature statistics and decodes them with a
decoder trained only to reconstruct photos. The encoder here is a narrow network distilled
from VGG-19 (Collaborative Distillation, Wang et al. CVPR 2020): its taps map linearly onto
``relu1_1 … relu4_1`` (the 1×1 embeddings live in the training module), so WCT on its
features transfers what WCT on VGG features transfers, at a fraction of the MACs.

Layout (``widths = (w0, w1, w2, w3)``; all 3×3 convolutions, reflection padding, ReLU):

- encoder: ``3→w0`` (1/1) → ``w0→w1`` stride 2 (1/2) → ``w1→w2`` stride 2 (1/4) →
  ``w2→w2`` (1/4) → ``w2→w3`` stride 2 (1/8): the bottleneck ``N×w3×H/8×W/8``;
- decoder head: nearest ×2, ``w3→w2`` (1/4) → ``w2→w2``: ``N×w2×H/4×W/4``;
- decoder tail: nearest ×2, ``w2→w1`` (1/2) → nearest ×2, ``w1→w0`` (1/1) → ``w0→3`` (linear).

Images are ``N×3×H×W`` RGB in [0, 255]; ``H, W`` are padded (reflect) to a multiple of 8 by
:func:`pad_to_multiple` and the caller crops back (:func:`crop_to`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from stylenet.errors import ConfigError

SIZE_MULTIPLE = 8  # three stride-2 convolutions
TEACHER_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")  # the encoder's four taps


@dataclass(frozen=True)
class AutoencoderConfig:
    """Channel widths ``(w0, w1, w2, w3)`` at 1/1, 1/2, 1/4 and 1/8 resolution."""

    widths: tuple[int, int, int, int] = (16, 32, 64, 128)

    def __post_init__(self) -> None:
        if len(self.widths) != 4 or any(int(w) < 1 for w in self.widths):
            raise ConfigError(f"widths must be four positive channel counts, got {self.widths}")

    def to_dict(self) -> dict[str, Any]:
        return {"widths": [int(w) for w in self.widths]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AutoencoderConfig:
        widths = data.get("widths", cls.widths)
        if not isinstance(widths, (list, tuple)) or len(widths) != 4:
            raise ConfigError(f"widths must be four channel counts, got {widths!r}")
        return cls(widths=(int(widths[0]), int(widths[1]), int(widths[2]), int(widths[3])))


class Conv3x3(nn.Module):
    """[nearest ×2] → reflection pad 1 → 3×3 conv (stride 1 or 2) → [ReLU]."""

    def __init__(
        self, cin: int, cout: int, *, stride: int = 1, upsample: bool = False, relu: bool = True
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride=stride)
        self.upsample = upsample
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        x = self.conv(F.pad(x, (1, 1, 1, 1), mode="reflect"))
        return F.relu(x) if self.relu else x


class FeatureEncoder(nn.Module):
    """``N×3×H×W`` RGB [0, 255] (``H, W`` multiples of 8) → bottleneck ``N×w3×H/8×W/8``."""

    def __init__(self, config: AutoencoderConfig | None = None) -> None:
        super().__init__()
        self.config = config or AutoencoderConfig()
        w0, w1, w2, w3 = self.config.widths
        self.layers = nn.ModuleList(
            [
                Conv3x3(3, w0),
                Conv3x3(w0, w1, stride=2),
                Conv3x3(w1, w2, stride=2),
                Conv3x3(w2, w2),
                Conv3x3(w2, w3, stride=2),
            ]
        )
        self.tap_indices = (0, 1, 3, 4)  # outputs that match TEACHER_LAYERS

    def forward_taps(self, image: torch.Tensor) -> list[torch.Tensor]:
        """The four taps (``relu1_1 … relu4_1`` counterparts), the last one the bottleneck."""
        x = image / 255.0
        taps = []
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index in self.tap_indices:
                taps.append(x)
        return taps

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.forward_taps(image)[-1]


class DecoderHead(nn.Module):
    """Bottleneck ``N×w3×h×w`` → ``N×w2×2h×2w`` (the 1/4-resolution decoder features)."""

    def __init__(self, config: AutoencoderConfig | None = None) -> None:
        super().__init__()
        _w0, _w1, w2, w3 = (config or AutoencoderConfig()).widths
        self.layers = nn.Sequential(Conv3x3(w3, w2, upsample=True), Conv3x3(w2, w2))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers(features)


class DecoderTail(nn.Module):
    """``N×w2×h×w`` → ``N×3×4h×4w`` RGB in [0, 255] (clamped)."""

    def __init__(self, config: AutoencoderConfig | None = None) -> None:
        super().__init__()
        w0, w1, w2, _w3 = (config or AutoencoderConfig()).widths
        self.layers = nn.Sequential(
            Conv3x3(w2, w1, upsample=True),
            Conv3x3(w1, w0, upsample=True),
            Conv3x3(w0, 3, relu=False),
        )

    def forward_raw(self, features: torch.Tensor) -> torch.Tensor:
        """Unclamped output on the [0, 1] scale (for training losses)."""
        return self.layers(features)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.forward_raw(features).clamp(0.0, 1.0) * 255.0


class StyleAutoencoder(nn.Module):
    """Encoder + two-part decoder; ``forward`` reconstructs (``N×3×H×W`` [0, 255], any size)."""

    def __init__(self, config: AutoencoderConfig | None = None) -> None:
        super().__init__()
        self.config = config or AutoencoderConfig()
        self.encoder = FeatureEncoder(self.config)
        self.head = DecoderHead(self.config)
        self.tail = DecoderTail(self.config)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        padded = pad_to_multiple(image)
        return crop_to(self.tail(self.head(self.encoder(padded))), image)


def pad_to_multiple(image: torch.Tensor, multiple: int = SIZE_MULTIPLE) -> torch.Tensor:
    """Reflect-pad ``N×C×H×W`` on the bottom/right to multiples of ``multiple``."""
    height, width = image.shape[-2:]
    pad_h = (-height) % multiple
    pad_w = (-width) % multiple
    if not pad_h and not pad_w:
        return image
    return F.pad(image, (0, pad_w, 0, pad_h), mode="reflect")


def crop_to(output: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``output`` cropped to the height and width of ``like``."""
    return output[..., : like.shape[-2], : like.shape[-1]]
