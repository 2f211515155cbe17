"""A network's layers one by one as ONNX: the format-3 layer graphs (:mod:`stylenet.contract`) that let ONNX Runtime run the network
layer by layer over tiles (:mod:`stylenet.serve.layerwise`), from the layer plan of
:mod:`stylenet.nn.layer_plan`.

The layer graphs are written by hand (one ``Conv`` per layer, a ``MatMul`` per conditional
instance norm): every convolution's weights are the network's, so ONNX Runtime computes what
PyTorch does. No input has a default (an initializer listed as an input, which ONNX Runtime
warns about): a caller feeds every window, the ones it does not need as a few zeros
(:class:`stylenet.serve.runtime.OnnxLayers`).
"""

from __future__ import annotations

import json
from typing import cast

import onnx
from onnx import TensorProto, helper, numpy_helper

from stylenet.contract import (
    FORMAT_KEY,
    FORMAT_VERSION,
    LAYER_PLAN_KEY,
    OPSET,
    STYLES_KEY,
    WEIGHTS_INPUT,
    layer_conv,
    layer_plan_json,
    layer_scale,
    layer_shift,
    layer_window,
)
from stylenet.nn.layer_plan import layer_affine, layer_plan, network_layers
from stylenet.nn.norms import ConditionalInstanceNorm2d
from stylenet.nn.transformer import TransformerNet

# IR version of the layer graphs: the lowest that carries opset 18 (ONNX Runtime >= 1.14)
IR_VERSION = 8


def to_layers_model(net: TransformerNet, styles: list[str]) -> onnx.ModelProto:
    """The checked format-3 layer graphs of ``net`` (see :mod:`stylenet.contract`)."""
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
