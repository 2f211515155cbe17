"""Export a :class:`~stylenet.nn.transformer.TransformerNet` to ONNX and check it against PyTorch.

The public ``torch.onnx.export`` with the ``torch.export``-based exporter (``dynamo=True``) at
the pinned :data:`~stylenet.export.contract.OPSET`: it gives a compact graph (about a quarter
of the TorchScript exporter's nodes) whose batch, height and width are symbolic, including the
pad-to-a-multiple-of-4 and crop-back arithmetic, so odd sizes work.

Format 2 (:mod:`stylenet.export.contract`): the graph also returns ``observed_statistics`` and
takes an optional ``statistics`` input whose default (an initializer of one NaN row, which
ONNX lets a caller override) means plain instance norm.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import torch
from torch.export import Dim

from stylenet.data.atomic import atomic_path
from stylenet.data.digest import file_sha256
from stylenet.errors import ModelFileError
from stylenet.export.calibration import synthetic_photo
from stylenet.export.contract import (
    DIM_NAMES,
    IMAGE_INPUT,
    MIN_IMAGE_SIDE,
    OPSET,
    OUTPUT,
    STATISTICS_INPUT,
    STATISTICS_OUTPUT,
    WEIGHTS_INPUT,
    layers_file_name,
    layers_reference,
    metadata_props,
)
from stylenet.export.layers import to_layers_model
from stylenet.nn.checkpoint import ModelInfo
from stylenet.nn.transformer import TransformerNet

# Largest allowed |PyTorch - ONNX Runtime| on the 0–255 scale for an fp32 export: a twentieth
# of one 8-bit level, far above float32 reordering noise (~1e-3) and far below anything visible.
FP32_TOLERANCE = 0.05
PARITY_SIZES: tuple[tuple[int, int], ...] = ((33, 47), (61, 35), (32, 32))
PARITY_BATCHES: tuple[int, ...] = (1, 3)
_EXAMPLE_BATCH, _EXAMPLE_SIDE = 2, 64  # sizes 0/1 would be specialised by torch.export


def export_onnx(net: TransformerNet, info: ModelInfo, path: str | os.PathLike[str]) -> Path:
    """Write ``net`` (a copy on the CPU, eval mode) as an ONNX model honouring the contract,
    with its layer graphs beside it (format 3: ``x.onnx`` and ``x.layers.onnx``).

    Inputs ``image`` (``N×3×H×W``) and, for multi-style nets, ``style_weights`` (``N×S``);
    output ``stylized`` (``N×3×H×W``). Adds the metadata, runs ``onnx.checker`` and writes
    both files atomically (the layer graphs first: the model names their sha256). Returns the
    model's path.
    """
    target = Path(path)
    _check_styles(net, info)
    layers_path = target.parent / layers_file_name(target.name)
    save_model(to_layers_model(copy.deepcopy(net), info.styles), layers_path)
    reference = layers_reference(layers_path.name, file_sha256(layers_path))
    return save_model(to_onnx_model(net, info, layers=reference), target)


def to_onnx_model(
    net: TransformerNet, info: ModelInfo, *, layers: str | None = None
) -> onnx.ModelProto:
    """The checked in-memory ONNX model of ``net`` (see :func:`export_onnx`); ``layers``:
    the ``stylenet.layers`` reference to its layer graphs' file."""
    _check_styles(net, info)
    module = copy.deepcopy(net).cpu().float().eval()
    channels = module.statistics_channels()
    args, names, shapes = _example_inputs(module)
    outputs = [OUTPUT]
    exported: torch.nn.Module = module
    if channels:
        exported = (TwoStageMulti if module.is_multi_style else TwoStage)(module)
        size = 2 * sum(channels)
        args = (*args, torch.full((_EXAMPLE_BATCH, size), float("nan")))
        names = [*names, STATISTICS_INPUT]
        shapes = {**shapes, STATISTICS_INPUT: {0: shapes[IMAGE_INPUT][0]}}
        outputs = [OUTPUT, STATISTICS_OUTPUT]
    with torch.no_grad(), quiet():
        program = torch.onnx.export(
            exported,
            args,
            input_names=names,
            output_names=outputs,
            opset_version=OPSET,
            dynamo=True,
            dynamic_shapes=shapes,
            external_data=False,
            verbose=False,
        )
    if program is None:
        raise ModelFileError("torch.onnx.export returned no ONNX program; update torch")
    model = program.model_proto
    _tidy(model)
    if channels:
        _default_statistics(model, 2 * sum(channels))
    props = metadata_props(info.styles, info.facts, dict(module.config), channels, layers)
    onnx.helper.set_model_props(model, props)
    onnx.checker.check_model(model, full_check=True)
    return model


def save_model(model: onnx.ModelProto, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` atomically as one self-contained ``.onnx`` file."""
    target = Path(path)
    with atomic_path(target) as tmp:
        onnx.save_model(model, tmp, save_as_external_data=False)
    return target


class TwoStage(torch.nn.Module):
    """``(image, statistics) -> (stylized, observed_statistics)``: the exported graph."""

    def __init__(self, net: TransformerNet) -> None:
        super().__init__()
        self.net = net

    def forward(
        self, image: torch.Tensor, statistics: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.net.forward_statistics(image, None, statistics)


class TwoStageMulti(TwoStage):
    """``(image, style_weights, statistics) -> (stylized, observed_statistics)``."""

    def forward(  # type: ignore[override]
        self, image: torch.Tensor, style_weights: torch.Tensor, statistics: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.net.forward_statistics(image, style_weights, statistics)


def _default_statistics(model: onnx.ModelProto, size: int) -> None:
    """Make the ``statistics`` input optional: an initializer of the same name (one NaN row)
    is its default value, overridden whenever a caller feeds the input."""
    # the exporter's intermediate shapes tie the statistics' rows to N; drop them so ONNX
    # Runtime infers shapes itself and the one-row default broadcasts over the batch
    del model.graph.value_info[:]
    default = np.full((1, size), np.nan, dtype=np.float32)
    model.graph.initializer.append(onnx.numpy_helper.from_array(default, STATISTICS_INPUT))
    for value in model.graph.input:
        if value.name == STATISTICS_INPUT:
            value.type.tensor_type.shape.dim[0].dim_param = "N_statistics"


def _check_styles(net: TransformerNet, info: ModelInfo) -> None:
    if len(info.styles) != net.num_styles:
        raise ModelFileError(
            f"the network has {net.num_styles} style(s) but {len(info.styles)} style name(s) "
            f"were given ({info.styles}); pass one name per style"
        )


def _example_inputs(net: TransformerNet) -> tuple[tuple[torch.Tensor, ...], list[str], dict]:
    """Example args, input names and ``dynamic_shapes`` (N, H, W symbolic; H, W >= 32)."""
    batch, height, width = (
        Dim(DIM_NAMES[0], min=1),
        Dim(DIM_NAMES[1], min=MIN_IMAGE_SIDE),
        Dim(DIM_NAMES[2], min=MIN_IMAGE_SIDE),
    )
    image = torch.rand(_EXAMPLE_BATCH, 3, _EXAMPLE_SIDE, _EXAMPLE_SIDE) * 255.0
    shapes: dict[str, dict[int, Dim]] = {IMAGE_INPUT: {0: batch, 2: height, 3: width}}
    if not net.is_multi_style:
        return (image,), [IMAGE_INPUT], shapes
    weights = torch.full((_EXAMPLE_BATCH, net.num_styles), 1.0 / net.num_styles)
    shapes[WEIGHTS_INPUT] = {0: batch}
    return (image, weights), [IMAGE_INPUT, WEIGHTS_INPUT], shapes


def _tidy(model: onnx.ModelProto) -> None:
    """Drop per-node debug metadata (source paths, stack traces) and name the output dims."""
    for node in model.graph.node:
        del node.metadata_props[:]
    dims = model.graph.output[0].type.tensor_type.shape.dim
    for index, name in zip((0, 2, 3), DIM_NAMES, strict=True):
        dims[index].dim_param = name
    if len(model.graph.output) > 1:
        model.graph.output[1].type.tensor_type.shape.dim[0].dim_param = DIM_NAMES[0]
    model.producer_name = "stylenet"


@contextlib.contextmanager
def quiet():
    """Silence exporter/quantizer chatter: progress lines on stdout, INFO/WARNING logs
    (graph-pass reports) on the root logger and UserWarnings. Errors still propagate."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            yield
    finally:
        root.setLevel(level)


def parity_inputs(
    num_styles: int,
    multi_style: bool,
    size: tuple[int, int],
    batch: int,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Photo-like ``batch×3×H×W`` images in [0, 255] and, for multi-style, fractional blends."""
    side = max(size)
    images = torch.stack(
        [synthetic_photo(seed * 1000 + i, side)[:, : size[0], : size[1]] for i in range(batch)]
    )
    if not multi_style:
        return images, None
    logits = torch.randn(batch, num_styles, generator=torch.Generator().manual_seed(seed))
    return images, torch.softmax(logits, dim=1)


def parity_stats(
    net: TransformerNet,
    onnx_path: str | os.PathLike[str],
    sizes: Sequence[tuple[int, int]] = PARITY_SIZES,
    batches: Sequence[int] = PARITY_BATCHES,
) -> tuple[float, float]:
    """(max, mean) ``|PyTorch - ONNX Runtime|`` on the 0–255 scale over every size × batch."""
    from stylenet.serve.runtime import OnnxStylizer  # serve depends on export, not back

    stylizer = OnnxStylizer(onnx_path, providers=["CPUExecutionProvider"])
    module = copy.deepcopy(net).cpu().float().eval()
    worst, total, count = 0.0, 0.0, 0
    for index, (size, batch) in enumerate((s, b) for s in sizes for b in batches):
        images, weights = parity_inputs(
            module.num_styles, module.is_multi_style, size, batch, seed=index
        )
        with torch.inference_mode():
            expected = module(images, weights)
        got = stylizer(images.numpy(), None if weights is None else weights.numpy())
        diff = (torch.from_numpy(got) - expected).abs()
        worst = max(worst, float(diff.max()))
        total, count = total + float(diff.sum()), count + diff.numel()
    return worst, total / count


def verify_parity(
    net: TransformerNet,
    onnx_path: str | os.PathLike[str],
    sizes: Sequence[tuple[int, int]] = PARITY_SIZES,
    batches: Sequence[int] = PARITY_BATCHES,
    tolerance: float = FP32_TOLERANCE,
) -> float:
    """Max ``|PyTorch - ONNX Runtime|`` (0–255 scale) over every size × batch combination.

    Inputs are photo-like synthetic images; multi-style models get random fractional blends.
    Raises :class:`ModelFileError` when the difference exceeds ``tolerance``.
    """
    worst, _ = parity_stats(net, onnx_path, sizes, batches)
    check_tolerance(onnx_path, worst, tolerance)
    return worst


def check_tolerance(onnx_path: str | os.PathLike[str], worst: float, tolerance: float) -> None:
    """Raise :class:`ModelFileError` if ``worst`` is not finite or above ``tolerance``."""
    if not np.isfinite(worst) or worst > tolerance:
        raise ModelFileError(
            f"{onnx_path}: ONNX Runtime differs from PyTorch by {worst:.4g} (0–255 scale), "
            f"more than the tolerance {tolerance}; re-export with the pinned opset {OPSET}"
        )
