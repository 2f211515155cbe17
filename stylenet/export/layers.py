"""A network's layers one by one: the layer plan, PyTorch's per-layer computations, and the
format-3 layer graphs (:mod:`stylenet.export.contract`) that let ONNX Runtime run the network
layer by layer over tiles (:mod:`stylenet.serve.layerwise`).

The layer graphs are written by hand (one ``Conv`` per layer, a ``MatMul`` per conditional
instance norm): every convolution's weights are the network's, so ONNX Runtime computes what
PyTorch does. No input has a default (an initializer listed as an input, which ONNX Runtime
warns about): a caller feeds every window, the ones it does not need as a few zeros
(:class:`stylenet.serve.runtime.OnnxLayers`).
"""

from __future__ import annotations

import json
from typing import cast

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from stylenet.export.contract import (
    FORMAT_KEY,
    FORMAT_VERSION,
    LAYER_PLAN_KEY,
    OPSET,
    STYLES_KEY,
    WEIGHTS_INPUT,
    LayerSpec,
    layer_conv,
    layer_plan_json,
    layer_scale,
    layer_shift,
    layer_window,
)
from stylenet.nn.norms import BatchNorm, ConditionalInstanceNorm2d, InstanceNorm, NoNorm
from stylenet.nn.transformer import ConvNormAct, ResidualBlock, TransformerNet

# IR version of the layer graphs: the lowest that carries opset 18 (ONNX Runtime >= 1.14)
IR_VERSION = 8


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


def to_layers_model(net: TransformerNet, styles: list[str]) -> onnx.ModelProto:
    """The checked format-3 layer graphs of ``net`` (see :mod:`stylenet.export.contract`)."""
    module = net.cpu().float().eval()
    plan = layer_plan(module)
    layers = network_layers(module)
    inputs, outputs, initializers, nodes = [], [], [], []
    multi = module.is_multi_style
    if multi:
        inputs.append(_value(WEIGHTS_INPUT, ["N", len(styles)]))
    for index, (spec, layer) in enumerate(zip(plan, layers, strict=True)):
        window, conv = layer_window(index), layer_conv(index)
        inputs.append(_value(window, ["N", spec.in_channels, f"h{index}", f"w{index}"]))
        outputs.append(_value(conv, ["N", spec.out_channels, f"oh{index}", f"ow{index}"]))
        weight = layer.conv.weight.detach().numpy()
        initializers.append(numpy_helper.from_array(weight, f"weight_{index}"))
        conv_inputs = [window, f"weight_{index}"]
        if layer.conv.bias is not None:
            bias = layer.conv.bias.detach().numpy()
            initializers.append(numpy_helper.from_array(bias, f"bias_{index}"))
            conv_inputs.append(f"bias_{index}")
        nodes.append(
            helper.make_node(
                "Conv",
                conv_inputs,
                [conv],
                kernel_shape=[spec.kernel, spec.kernel],
                strides=[spec.stride, spec.stride],
                pads=[0, 0, 0, 0],
            )
        )
        if spec.norm is None:
            continue
        rows = "N" if multi and isinstance(layer.norm, ConditionalInstanceNorm2d) else 1
        for name, make in ((layer_scale(index), 0), (layer_shift(index), 1)):
            outputs.append(_value(name, [rows, spec.out_channels]))
            if rows == "N":
                norm = cast(ConditionalInstanceNorm2d, layer.norm)
                table = (norm.gamma, norm.beta)[make].detach().numpy()
                initializers.append(numpy_helper.from_array(table, f"table_{name}"))
                nodes.append(helper.make_node("MatMul", [WEIGHTS_INPUT, f"table_{name}"], [name]))
            else:
                value = layer_affine(layer, None)[make].numpy()
                initializers.append(numpy_helper.from_array(value, f"value_{name}"))
                nodes.append(helper.make_node("Identity", [f"value_{name}"], [name]))
    graph = helper.make_graph(nodes, "stylenet_layers", inputs, outputs, initializers)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="stylenet",
        ir_version=IR_VERSION,
    )
    props = {
        LAYER_PLAN_KEY: layer_plan_json(plan),
        STYLES_KEY: json.dumps(list(styles)),
        FORMAT_KEY: str(FORMAT_VERSION),
    }
    helper.set_model_props(model, props)
    onnx.checker.check_model(model, full_check=True)
    return model


def _value(name: str, shape: list[int | str]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


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
