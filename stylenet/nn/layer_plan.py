"""A transformer network's layers one by one, in PyTorch: the layer plan
(:class:`~stylenet.contract.LayerSpec` per layer), each layer's affine step and
:class:`TorchLayers`, the :class:`stylenet.serve.layerwise.Layers` of a PyTorch network.
The ONNX layer graphs built from the same plan are :mod:`stylenet.export.layers`."""

from __future__ import annotations

from typing import cast

import numpy as np
import torch

from stylenet.contract import LayerSpec
from stylenet.nn.norms import BatchNorm, ConditionalInstanceNorm2d, InstanceNorm, NoNorm
from stylenet.nn.transformer import ConvNormAct, ResidualBlock, TransformerNet


def network_layers(net: TransformerNet) -> list[ConvNormAct]:
    """``net``'s conv layers in forward order (encoder, residual blocks, decoder)."""
    blocks = cast(list[ResidualBlock], list(net.residuals))
    return [
        *cast(list[ConvNormAct], list(net.encoder)),
        *(layer for block in blocks for layer in (block.first, block.second)),
        *cast(list[ConvNormAct], list(net.decoder)),
    ]


def layer_plan(net: TransformerNet) -> list[LayerSpec]:
    """The :class:`LayerSpec` of every layer of ``net`` (residual blocks' second layers add
    the first layer's input)."""
    first_layers = {id(block.first) for block in net.residuals}
    layers = network_layers(net)
    plan: list[LayerSpec] = []
    for index, layer in enumerate(layers):
        conv = layer.conv
        if conv.kernel_size[0] != conv.kernel_size[1] or conv.stride[0] != conv.stride[1]:
            raise ValueError(f"layer {index}: only square kernels and strides run layer by layer")
        is_second = index > 0 and id(layers[index - 1]) in first_layers
        plan.append(
            LayerSpec(
                in_channels=conv.in_channels,
                out_channels=conv.out_channels,
                kernel=conv.kernel_size[0],
                stride=conv.stride[0],
                upsample=layer.upsample,
                norm=_norm_kind(layer.norm),
                activation=bool(layer.activation),
                add_input_of=index - 1 if is_second else None,
                eps=_eps(layer.norm),
            )
        )
    return plan


def _norm_kind(norm: torch.nn.Module | None) -> str | None:
    if norm is None or isinstance(norm, NoNorm):
        return None
    if isinstance(norm, (InstanceNorm, ConditionalInstanceNorm2d)):
        return "instance"
    if isinstance(norm, BatchNorm):
        return "fixed"
    raise ValueError(f"no layer-by-layer form for {type(norm).__name__}")


def _eps(norm: torch.nn.Module | None) -> float:
    if isinstance(norm, InstanceNorm | BatchNorm):
        return float(norm.norm.eps)
    if isinstance(norm, ConditionalInstanceNorm2d):
        return float(norm.eps)
    return 1e-5


@torch.no_grad()
def layer_affine(
    layer: ConvNormAct, style_weights: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(scale, shift)`` (``N×C`` or ``1×C``) applied after ``layer``'s normalisation: the
    instance norm's (γ, β), conditional instance norm's blend ``wᵀΓ, wᵀB`` (Dumoulin et al.
    2017), or batch norm's running statistics folded into its affine."""
    norm = layer.norm
    if isinstance(norm, InstanceNorm):
        return norm.norm.weight.detach()[None].float(), norm.norm.bias.detach()[None].float()
    if isinstance(norm, ConditionalInstanceNorm2d):
        if style_weights is None:
            if norm.num_styles != 1:
                raise ValueError("a multi-style network needs style_weights (N×S)")
            style_weights = norm.gamma.new_ones(1, 1)
        weights = style_weights.to(norm.gamma.dtype)
        return (weights @ norm.gamma.detach()).float(), (weights @ norm.beta.detach()).float()
    if isinstance(norm, BatchNorm):
        bn = norm.norm
        scale = bn.weight / torch.sqrt(cast(torch.Tensor, bn.running_var) + bn.eps)
        shift = bn.bias - cast(torch.Tensor, bn.running_mean) * scale
        return scale.detach()[None].float(), shift.detach()[None].float()
    raise ValueError(f"layer has no affine step ({type(norm).__name__})")


class TorchLayers:
    """The :class:`stylenet.serve.layerwise.Layers` of a PyTorch network (on its device)."""

    def __init__(self, net: TransformerNet) -> None:
        self.net = net.eval()
        self.layers = network_layers(net)
        self.plan = layer_plan(net)
        self.device = next(net.parameters()).device

    @torch.no_grad()
    def convolve(self, index: int, window: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(window).to(self.device)
        return self.layers[index].conv(x).float().cpu().numpy()

    def affine(self, index: int, style_weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        weights = None
        if style_weights is not None:
            weights = torch.from_numpy(np.asarray(style_weights, np.float32)).to(self.device)
        scale, shift = layer_affine(self.layers[index], weights)
        return scale.cpu().numpy(), shift.cpu().numpy()
