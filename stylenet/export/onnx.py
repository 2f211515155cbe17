"""Export a :class:`~stylenet.nn.transformer.TransformerNet` to ONNX and check it against PyTorch.

The public ``torch.onnx.export`` with the ``torch.export``-based exporter (``dynamo=True``) at
the pinned :data:`~stylenet.contract.OPSET`: it gives a compact graph (about a quarter
of the TorchScript exporter's nodes) whose batch, height and width are symbolic, including the
pad-to-a-multiple-of-4 and crop-back arithmetic, so odd sizes work.

An instance-norm network is exported once, as the *statistics graph* (:mod:`stylenet.contract`:
``statistics`` in, ``observed_statistics`` out as well); the app-facing model is derived from it
by :func:`plain_model` (``statistics`` fixed to NaN, the unused branch removed), so the two give
the same pixels and the model has no input with a default (which ONNX Runtime warns about).
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import os
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import onnx
import torch
from torch.export import Dim

from stylenet.contract import (
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
    statistics_file_name,
)
from stylenet.data.atomic import atomic_path
from stylenet.data.digest import file_sha256
from stylenet.errors import ModelFileError
from stylenet.export.calibration import synthetic_photo
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
    with its tiling graphs in the ``tiling/`` folder beside it (format 4: ``x.onnx``,
    ``tiling/x.layers.onnx`` and, for instance-norm networks, ``tiling/x.statistics.onnx``).

    Inputs ``image`` (``N×3×H×W``) and, for multi-style nets, ``style_weights`` (``N×S``);
    output ``stylized`` (``N×3×H×W``). Adds the metadata, runs ``onnx.checker`` and writes
    every file atomically (the tiling graphs first: the model names their sha256). Returns the
    model's path.
    """
    target = Path(path)
    _check_styles(net, info)
    layers_name = layers_file_name(target.name)
    layers_path = save_model(
        to_layers_model(copy.deepcopy(net), info.styles), target.parent / layers_name
    )
    layers = layers_reference(layers_name, file_sha256(layers_path))
    statistics = to_statistics_model(net, info)
    if statistics is None:
        return save_model(to_onnx_model(net, info, layers=layers), target)
    statistics_name = statistics_file_name(target.name)
    statistics_path = save_model(statistics, target.parent / statistics_name)
    reference = layers_reference(statistics_name, file_sha256(statistics_path))
    model = plain_model(statistics)
    _set_metadata(model, net, info, layers=layers, statistics_graph=reference)
    return save_model(model, target)


def to_onnx_model(
    net: TransformerNet,
    info: ModelInfo,
    *,
    layers: str | None = None,
    statistics_graph: str | None = None,
) -> onnx.ModelProto:
    """The checked in-memory app-facing ONNX model of ``net`` (see :func:`export_onnx`);
    ``layers`` and ``statistics_graph``: the references to its tiling graphs' files."""
    _check_styles(net, info)
    statistics = to_statistics_model(net, info)
    if statistics is not None:
        model = plain_model(statistics)
    else:
        module = copy.deepcopy(net).cpu().float().eval()
        args, names, shapes = _example_inputs(module)
        model = _export(module, args, names, shapes, [OUTPUT])
    _set_metadata(model, net, info, layers=layers, statistics_graph=statistics_graph)
    return model


def to_statistics_model(net: TransformerNet, info: ModelInfo) -> onnx.ModelProto | None:
    """The checked statistics graph of ``net`` (``statistics`` in, ``observed_statistics``
    out as well; see :mod:`stylenet.contract`), ``None`` for a network without
    instance norm."""
    _check_styles(net, info)
    module = copy.deepcopy(net).cpu().float().eval()
    channels = module.statistics_channels()
    if not channels:
        return None
    args, names, shapes = _example_inputs(module)
    size = 2 * sum(channels)
    args = (*args, torch.full((_EXAMPLE_BATCH, size), float("nan")))
    names = [*names, STATISTICS_INPUT]
    shapes = {**shapes, STATISTICS_INPUT: {0: shapes[IMAGE_INPUT][0]}}
    exported = (TwoStageMulti if module.is_multi_style else TwoStage)(module)
    model = _export(exported, args, names, shapes, [OUTPUT, STATISTICS_OUTPUT])
    _free_statistics_rows(model)
    _set_metadata(model, net, info)
    return model


def _export(
    module: torch.nn.Module,
    args: tuple[torch.Tensor, ...],
    names: list[str],
    shapes: dict,
    outputs: list[str],
) -> onnx.ModelProto:
    with torch.no_grad(), quiet():
        program = torch.onnx.export(
            module,
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
    return model


def _set_metadata(
    model: onnx.ModelProto,
    net: TransformerNet,
    info: ModelInfo,
    *,
    layers: str | None = None,
    statistics_graph: str | None = None,
) -> None:
    """Write the contract's ``metadata_props`` into ``model`` and check it."""
    channels = net.statistics_channels()
    props = metadata_props(
        info.styles, info.facts, dict(net.config), channels, layers, statistics_graph
    )
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, props)
    onnx.checker.check_model(model, full_check=True)


def plain_model(statistics_model: onnx.ModelProto) -> onnx.ModelProto:
    """The app-facing model of a statistics graph (a new proto, metadata kept): ``statistics``
    fixed to NaN (every ``Where(IsNaN(given), own, given)`` on it becomes ``own``, exactly what
    it computes for NaN), ``observed_statistics`` and everything only it used removed. Works
    on the fp32 graph and its fp16/INT8 variants (the pattern is left intact by both)."""
    model = onnx.ModelProto()
    model.CopyFrom(statistics_model)
    graph = model.graph
    producers = {name: node for node in graph.node for name in node.output}
    constants = {tensor.name for tensor in graph.initializer}
    rename: dict[str, str] = {}
    for node in graph.node:
        condition = producers.get(node.input[0]) if node.op_type == "Where" else None
        if (
            condition is not None
            and condition.op_type == "IsNaN"
            and condition.input[0] == node.input[2]
            and _graph_inputs_of(node.input[2], producers, constants) == {STATISTICS_INPUT}
        ):
            rename[node.output[0]] = node.input[1]
    for node in graph.node:
        for index, name in enumerate(node.input):
            while name in rename:
                name = rename[name]
            node.input[index] = name
    kept = [value for value in graph.output if value.name == OUTPUT]
    del graph.output[:]
    graph.output.extend(kept)
    needed = {OUTPUT}
    nodes = []
    for node in reversed(graph.node):
        if any(name in needed for name in node.output):
            nodes.append(node)
            needed.update(node.input)
    if STATISTICS_INPUT in needed:
        raise ModelFileError(
            "the statistics graph uses its statistics outside Where(IsNaN(·)); cannot derive "
            "the plain model (report a bug)"
        )
    kept_nodes = [onnx.NodeProto.FromString(n.SerializeToString()) for n in reversed(nodes)]
    del graph.node[:]
    graph.node.extend(kept_nodes)
    for field in (graph.input, graph.initializer, graph.value_info):
        kept_values = [v for v in field if v.name in needed]
        del field[:]
        field.extend(kept_values)
    return model


def _graph_inputs_of(
    name: str, producers: dict[str, onnx.NodeProto], constants: set[str]
) -> set[str]:
    """The graph inputs tensor ``name`` is computed from: the names reached backwards from
    it that no node produces and that are not ``constants`` (initializers)."""
    seen, found, pending = set(), set(), [name]
    while pending:
        current = pending.pop()
        if current in seen or not current:
            continue
        seen.add(current)
        node = producers.get(current)
        if node is None and current not in constants:
            found.add(current)
        elif node is not None:
            pending.extend(node.input)
    return found


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


def _free_statistics_rows(model: onnx.ModelProto) -> None:
    """Let ``statistics`` have one row for a whole batch: its row count gets its own dim name."""
    # the exporter's intermediate shapes tie the statistics' rows to N; drop them so ONNX
    # Runtime infers shapes itself and a one-row input broadcasts over the batch
    del model.graph.value_info[:]
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
def quiet() -> Iterator[None]:
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
