"""Receptive fields computed from a network's layers (Araujo, Norris and Sim 2019,
"Computing Receptive Fields of Convolutional Neural Networks", Distill).

Walking a chain of (kernel ``k``, stride ``s``, padding ``p``, dilation ``d``) operations
from the input, with ``j`` the distance in input pixels between neighbouring units:
``size += (k − 1)·d·j``, ``start += ((k − 1)·d/2 − p)·j``, ``j *= s``. ``start`` is the input
coordinate of the centre of unit 0 (pixel ``i`` has centre ``i``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import nn

from stylenet.errors import ConfigError
from stylenet.nn.vgg import POOL_SIZE, VGGFeatures


@dataclass(frozen=True)
class SpatialOp:
    """One operation's geometry: kernel, stride, padding and dilation (square)."""

    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1

    def output_size(self, size: int) -> int:
        """Output side for an input side ``size`` (PyTorch's floor rule)."""
        return (size + 2 * self.padding - self.dilation * (self.kernel - 1) - 1) // self.stride + 1


@dataclass(frozen=True)
class ReceptiveField:
    """``size``: side of the input window a unit sees; ``jump``: input pixels between units;
    ``start``: input coordinate of unit 0's centre (may be negative or a half pixel)."""

    size: int
    jump: int
    start: float

    def box(self, y: int, x: int) -> tuple[int, int, int, int]:
        """Input window ``(top, left, bottom, right)`` (exclusive ends) of unit ``(y, x)``;
        it may reach outside the image (the padding)."""
        half = (self.size - 1) / 2
        top = round(self.start + y * self.jump - half)
        left = round(self.start + x * self.jump - half)
        return top, left, top + self.size, left + self.size


def inside_units(field: ReceptiveField, size: int) -> tuple[int, int] | None:
    """``(first, last)`` unit indices (inclusive) whose window lies inside a ``size``-pixel
    side, or ``None`` when no window fits (the field is wider than the image)."""
    half = (field.size - 1) / 2
    first = math.ceil((half - field.start) / field.jump)
    last = math.floor((size - 1 - half - field.start) / field.jump)
    return (first, last) if first <= last else None


def receptive_field(ops: list[SpatialOp]) -> ReceptiveField:
    """The receptive field of a unit after ``ops`` (applied in order to the input)."""
    size, jump, start = 1, 1, 0.0
    for op in ops:
        span = (op.kernel - 1) * op.dilation
        size += span * jump
        start += (span / 2 - op.padding) * jump
        jump *= op.stride
    return ReceptiveField(size=size, jump=jump, start=start)


def vgg_ops(vgg: VGGFeatures, layer: str) -> list[SpatialOp]:
    """The convolutions and poolings of ``vgg`` up to ``layer`` (``relu3_1`` or ``conv3_1``,
    or ``pool3`` for the pooling after block 3), read from its modules."""
    name = layer.replace("conv", "relu", 1) if layer.startswith("conv") else layer
    ops: list[SpatialOp] = []
    previous_block = 1
    for conv, relu in zip(vgg.conv_layers(), vgg.depth_names, strict=True):
        block = int(relu[4])
        if block != previous_block:
            ops.append(SpatialOp(POOL_SIZE, POOL_SIZE))
            if name == f"pool{previous_block}":
                return ops
            previous_block = block
        kernel = int(conv.weight.shape[-1])
        ops.append(SpatialOp(kernel, 1, int(conv.padding)))
        if relu == name:
            return ops
    if name == f"pool{previous_block}":
        return [*ops, SpatialOp(POOL_SIZE, POOL_SIZE)]
    raise ConfigError(
        f"layer {layer!r} is not computed by this VGG; use one of "
        f"{vgg.depth_names[0]} … {vgg.depth_names[-1]} (or conv3_1, pool3)"
    )


def module_ops(model: nn.Module, layer: str) -> list[SpatialOp]:
    """The convolutions and poolings registered in ``model`` before and including ``layer``
    (a module name), in registration order: right for chains (VGG, AlexNet), wrong for
    branching networks, so check the result with :func:`check_ops`."""
    ops: list[SpatialOp] = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d | nn.MaxPool2d | nn.AvgPool2d):
            ops.append(_op_of(module))
        if name in (layer, f"model.{layer}"):
            return ops
    raise ConfigError(f"the model has no layer {layer!r}")


def _op_of(module: nn.Module) -> SpatialOp:
    def side(value: int | tuple[int, ...]) -> int:
        values = (value,) if isinstance(value, int) else tuple(value)
        if len(set(values)) != 1:
            raise ConfigError(f"{type(module).__name__} is not square: {values}")
        return int(values[0])

    if isinstance(module, nn.Conv2d) and not isinstance(module.padding, str):
        return SpatialOp(
            side(module.kernel_size), side(module.stride), side(module.padding),
            side(module.dilation),
        )  # fmt: skip
    if isinstance(module, nn.Conv2d):
        raise ConfigError("convolutions with padding='same'/'valid' strings are not supported")
    if not isinstance(module, nn.MaxPool2d | nn.AvgPool2d):
        raise ConfigError(f"{type(module).__name__} is neither a convolution nor a pooling")
    dilation = getattr(module, "dilation", 1)
    return SpatialOp(
        side(module.kernel_size), side(module.stride or module.kernel_size),
        side(module.padding), side(dilation),
    )  # fmt: skip


def check_ops(ops: list[SpatialOp], input_size: int, output_size: int, layer: str) -> None:
    """Raise :class:`ConfigError` unless ``ops`` map ``input_size`` to the ``output_size``
    the network really produces (a branching network fails this)."""
    size = input_size
    for op in ops:
        size = op.output_size(size)
    if size != output_size:
        raise ConfigError(
            f"cannot derive the receptive field of {layer!r} from a walk over the layers "
            f"(predicted {size} px, the network gives {output_size}: it branches); "
            f"use a VGG (classifier=vgg19_caffe) or a chain network for method=patches"
        )
