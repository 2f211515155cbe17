"""The image transformation network of Johnson, Alahi and Fei-Fei (2016), with the fixes
users ask every peer for:

- reflection padding everywhere (no border artefacts);
- instance norm with affine parameters (Ulyanov et al. 2016), or any norm from
  :func:`~stylenet.nn.norms.norm_factory` (conditional instance norm for multi-style);
- upsampling by resize + convolution instead of transposed convolution (no checkerboard
  artefacts; Odena, Dumoulin and Olah 2016);
- any input ``H, W >= 32``: padded (reflect) to a multiple of 4 inside and cropped back;
- shared instance-norm statistics for tiled high-resolution inference (``statistics=``, see
  :mod:`stylenet.nn.statistics`; Chen et al. 2022, URST).

Input and output: ``N×3×H×W`` RGB float in [0, 255]; ``style_weights``: ``N×S`` or ``None``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from stylenet.errors import ConfigError
from stylenet.nn.limits import MIN_SIDE as MIN_SIDE  # re-exported
from stylenet.nn.norms import ConditionalInstanceNorm2d, InstanceNorm, NormFactory, norm_factory
from stylenet.nn.statistics import StatisticsPass
from stylenet.styles import is_multi_style

SIZE_MULTIPLE = 4  # two stride-2 downsamplings


class ConvNormAct(nn.Module):
    """[resize ×2] → reflection pad → conv → norm → [ReLU]."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        norm: NormFactory | None,
        stride: int = 1,
        upsample: str | None = None,
        activation: bool = True,
    ) -> None:
        super().__init__()
        self.upsample = upsample
        self.pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride)
        self.norm = norm(out_channels) if norm is not None else None
        self.activation = activation

    def forward(
        self,
        x: torch.Tensor,
        style_weights: torch.Tensor | None = None,
        statistics: StatisticsPass | None = None,
    ) -> torch.Tensor:
        if self.upsample is not None:
            x = F.interpolate(x, scale_factor=2.0, mode=self.upsample)
        x = self.conv(self.pad(x))
        if self.norm is not None:
            if statistics is not None and is_instance_norm(self.norm):
                x = self.norm(x, style_weights, moments=statistics.moments_for(x))
            else:
                x = self.norm(x, style_weights)
        return F.relu(x) if self.activation else x


def is_instance_norm(module: nn.Module) -> bool:
    """Whether ``module`` normalises with per-image statistics that tiles can share."""
    return isinstance(module, (InstanceNorm, ConditionalInstanceNorm2d))


class ResidualBlock(nn.Module):
    """Two 3×3 conv-norm layers with an identity skip (He et al. 2016; Johnson et al. 2016)."""

    def __init__(self, channels: int, norm: NormFactory) -> None:
        super().__init__()
        self.first = ConvNormAct(channels, channels, 3, norm)
        self.second = ConvNormAct(channels, channels, 3, norm, activation=False)

    def forward(
        self,
        x: torch.Tensor,
        style_weights: torch.Tensor | None = None,
        statistics: StatisticsPass | None = None,
    ) -> torch.Tensor:
        first = self.first(x, style_weights, statistics)
        return x + self.second(first, style_weights, statistics)


class TransformerNet(nn.Module):
    """Johnson et al. (2016) feed-forward stylization network.

    Args:
        width: channel multiplier (1.0 = the paper's 32/64/128 channels).
        num_res_blocks: residual blocks at the bottleneck (paper: 5).
        norm: ``instance`` | ``conditional_instance`` | ``batch`` | ``none``.
        num_styles: S, the number of styles (conditional instance norm only).
        upsample: interpolation mode of the resize-convolution (``nearest`` or ``bilinear``).
        outer_kernel: kernel size of the first and last (full-resolution) convolutions
            (paper: 9; smaller is faster, see ``conf/net/johnson_fast.yaml``).
    """

    def __init__(
        self,
        width: float = 1.0,
        num_res_blocks: int = 5,
        norm: str = "instance",
        num_styles: int = 1,
        upsample: str = "nearest",
        outer_kernel: int = 9,
    ) -> None:
        super().__init__()
        if width <= 0 or num_res_blocks < 0:
            raise ConfigError(
                f"model.width must be > 0 and model.num_res_blocks >= 0, got {width}, {num_res_blocks}"
            )
        if upsample not in ("nearest", "bilinear"):
            raise ConfigError(f"model.upsample must be nearest or bilinear, got {upsample!r}")
        if outer_kernel < 1 or outer_kernel % 2 == 0:
            raise ConfigError(f"model.outer_kernel must be odd and >= 1, got {outer_kernel}")
        self.config: dict[str, Any] = {
            "width": float(width),
            "num_res_blocks": int(num_res_blocks),
            "norm": norm,
            "num_styles": int(num_styles),
            "upsample": upsample,
            "outer_kernel": int(outer_kernel),
        }
        self.num_styles = int(num_styles) if is_multi_style(norm=norm) else 1
        make_norm = norm_factory(norm, self.num_styles)
        c1, c2, c3 = (max(1, round(c * width)) for c in (32, 64, 128))
        self.encoder = nn.ModuleList(
            [
                ConvNormAct(3, c1, outer_kernel, make_norm),
                ConvNormAct(c1, c2, 3, make_norm, stride=2),
                ConvNormAct(c2, c3, 3, make_norm, stride=2),
            ]
        )
        self.residuals = nn.ModuleList(ResidualBlock(c3, make_norm) for _ in range(num_res_blocks))
        self.decoder = nn.ModuleList(
            [
                ConvNormAct(c3, c2, 3, make_norm, upsample=upsample),
                ConvNormAct(c2, c1, 3, make_norm, upsample=upsample),
                ConvNormAct(c1, 3, outer_kernel, None, activation=False),
            ]
        )

    @property
    def is_multi_style(self) -> bool:
        """Whether ``forward`` takes ``style_weights`` (:func:`stylenet.styles.is_multi_style`)."""
        return is_multi_style(norm=str(self.config["norm"]))

    def statistics_channels(self) -> list[int]:
        """Channels of each instance-norm layer in forward order (the packed layout's C's)."""
        layers = [*self.encoder, *(c for b in self.residuals for c in (b.first, b.second))]
        layers += list(self.decoder)
        return [
            layer.conv.out_channels
            for layer in layers
            if layer.norm is not None and is_instance_norm(layer.norm)
        ]

    def forward(
        self,
        image: torch.Tensor,
        style_weights: torch.Tensor | None = None,
        statistics: torch.Tensor | StatisticsPass | None = None,
    ) -> torch.Tensor:
        """``N×3×H×W`` RGB in [0, 255] (``H, W >= 32``) → stylized ``N×3×H×W`` in [0, 255].

        ``statistics``: packed ``N×K`` (or ``1×K``) instance-norm statistics to normalise
        every layer with (NaN = the input's own), or a :class:`StatisticsPass` that also
        records each layer's own moments; ``None`` = plain instance norm.
        """
        if statistics is not None and not isinstance(statistics, StatisticsPass):
            statistics = StatisticsPass(statistics)
        height, width = image.shape[-2], image.shape[-1]
        pad_h = (SIZE_MULTIPLE - height % SIZE_MULTIPLE) % SIZE_MULTIPLE
        pad_w = (SIZE_MULTIPLE - width % SIZE_MULTIPLE) % SIZE_MULTIPLE
        x = F.pad(image / 255.0, (0, pad_w, 0, pad_h), mode="reflect")
        for layer in self.encoder:
            x = layer(x, style_weights, statistics)
        for block in self.residuals:
            x = block(x, style_weights, statistics)
        for layer in self.decoder:
            x = layer(x, style_weights, statistics)
        out = 127.5 * (torch.tanh(x) + 1.0)
        return out[..., :height, :width]

    def forward_statistics(
        self,
        image: torch.Tensor,
        style_weights: torch.Tensor | None = None,
        statistics: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Stylize and report statistics: ``(stylized N×3×H×W, observed N×K)``.

        ``observed`` packs each instance-norm layer's own input moments in this pass (the
        whole image's statistics when ``statistics`` is ``None``; with given statistics, the
        moments of the features those produce, as accumulated over tiles).
        """
        recorder = StatisticsPass(statistics)
        out = self.forward(image, style_weights, recorder)
        return out, recorder.packed()


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
