"""The ONNX model contract: the one place that names inputs, outputs, metadata and the opset.

An exported stylenet model ``x.onnx`` (the one file an app loads) has
- input ``image``: float32 ``N×3×H×W`` RGB in [0, 255]; N, H, W dynamic, ``H, W >= 32``
  (the graph pads to a multiple of 4 and crops back);
- multi-style models only: input ``style_weights``: float32 ``N×S`` (a one-hot row = one style);
- output ``stylized``: float32 ``N×3×H×W`` RGB in [0, 255], the input's H and W;
- no other inputs or outputs, and no initializer listed among the inputs;
- metadata_props: ``stylenet.styles`` (JSON list of the S style names),
  ``stylenet.format_version``, ``stylenet.model`` (the network config, JSON) and one
  ``stylenet.fact.<name>`` per training fact (JSON-encoded value).

Tiled inference uses two more graphs, kept in the ``tiling/`` folder beside the model
(``wave.onnx`` → ``tiling/wave.statistics.onnx``, ``tiling/wave.layers.onnx``) so that an app
sees one ``.onnx`` per model. The model names each in its metadata as JSON
``{"file": "tiling/<name>", "sha256": hex}`` (variants point at their own statistics graph and
at the fp32 model's layer graphs). Neither has an initializer among its inputs: every input is
fed on every call.

The *statistics graph* (metadata ``stylenet.statistics_graph``; instance-norm networks only):
two-stage inference with shared instance-norm statistics (thumbnail instance normalisation,
Chen et al. 2022; layout in :mod:`stylenet.nn.statistics`):
- inputs ``image`` (and ``style_weights``) as the model's, and ``statistics``: float32
  ``N×K`` (or ``1×K``), the statistics to normalise with; NaN = each layer's own, so one row of
  NaN gives exactly the model's output (stage 2: feed stage 1's output with every tile);
- outputs ``stylized`` and ``observed_statistics``: float32 ``N×K``, every instance-norm
  layer's input means and variances in this run (stage 1: run a thumbnail, read this);
- metadata ``stylenet.statistics`` (also in the model): JSON list of the instance-norm layers'
  channel counts (``K = 2·sum``).
The model is this graph with ``statistics`` fixed to NaN and the unused branch removed
(:func:`stylenet.export.onnx.plain_model`), so both give the same pixels.

The *layer graphs* (metadata ``stylenet.layers``): exact layer-by-layer tiling
(:mod:`stylenet.serve.layerwise`). For every convolution ``i`` of the network in forward order:
- input ``window_<i>``: float32 ``N×C_in×h×w``, a window of the layer's input, already
  upsampled and reflection-padded (a call that needs layer ``i`` feeds a one-pixel-output
  window of zeros to every other layer);
- output ``conv_<i>``: the convolution of that window (no padding inside the graph);
- outputs ``scale_<i>``, ``shift_<i>``: float32 ``N×C_out`` (or ``1×C_out``), the affine step
  after the layer's normalisation (the blend of the per-style (γ, β) for conditional instance
  norm, from input ``style_weights`` ``N×S`` for multi-style models); normalised layers only;
- metadata ``stylenet.layer_plan``: JSON list of :class:`LayerSpec` (how the layers connect).

Format history: 1 = the model alone; 2 = the model also had the statistics graph's
``observed_statistics`` output and an optional ``statistics`` input (an initializer default);
3 = format 2 plus the layer graphs beside it (``wave.layers.onnx``, with initializer defaults);
4 = this layout. All are still read; formats 1 and 2 cannot tile layer by layer.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# Pinned opset: the torch.export-based exporter's native opset (no version conversion step);
# ONNX Runtime >= 1.14 runs it with every execution provider.
OPSET = 18
FORMAT_VERSION = 4
READABLE_VERSIONS = (1, 2, 3, 4)

IMAGE_INPUT = "image"
WEIGHTS_INPUT = "style_weights"
OUTPUT = "stylized"
STATISTICS_INPUT = "statistics"
STATISTICS_OUTPUT = "observed_statistics"
DIM_NAMES = ("N", "H", "W")
MIN_IMAGE_SIDE = 32  # shortest side; the network pads to a multiple of 4 inside

STYLES_KEY = "stylenet.styles"
FORMAT_KEY = "stylenet.format_version"
MODEL_KEY = "stylenet.model"
STATISTICS_KEY = "stylenet.statistics"
FACT_PREFIX = "stylenet.fact."
LAYERS_KEY = "stylenet.layers"
LAYER_PLAN_KEY = "stylenet.layer_plan"
STATISTICS_GRAPH_KEY = "stylenet.statistics_graph"
LAYERS_SUFFIX = ".layers.onnx"
STATISTICS_SUFFIX = ".statistics.onnx"
TILING_FOLDER = "tiling"  # beside the model: the graphs only tiled inference uses
NORM_KINDS = ("instance", "fixed")  # whole-map moments, or a fixed affine (batch norm, eval)
UPSAMPLE_MODES = ("nearest", "bilinear")


def layer_window(index: int) -> str:
    """Name of layer ``index``'s window input in the layer graphs."""
    return f"window_{index}"


def layer_conv(index: int) -> str:
    """Name of layer ``index``'s convolution output in the layer graphs."""
    return f"conv_{index}"


def layer_scale(index: int) -> str:
    """Name of layer ``index``'s per-channel scale output (normalised layers)."""
    return f"scale_{index}"


def layer_shift(index: int) -> str:
    """Name of layer ``index``'s per-channel shift output (normalised layers)."""
    return f"shift_{index}"


def layers_file_name(model_file: str) -> str:
    """``wave.onnx`` → ``tiling/wave.layers.onnx``: the layer graphs' file, relative to the
    model's folder."""
    return tiling_file_name(model_file, LAYERS_SUFFIX)


def statistics_file_name(model_file: str) -> str:
    """``wave.onnx`` → ``tiling/wave.statistics.onnx``: the statistics graph's file, relative
    to the model's folder (``wave.fp16.onnx`` → ``tiling/wave.fp16.statistics.onnx``)."""
    return tiling_file_name(model_file, STATISTICS_SUFFIX)


def tiling_file_name(model_file: str, suffix: str) -> str:
    """``tiling/<model stem><suffix>`` for the model file name ``model_file``."""
    stem = model_file[: -len(".onnx")] if model_file.endswith(".onnx") else model_file
    return f"{TILING_FOLDER}/{stem}{suffix}"


@dataclass(frozen=True)
class LayerSpec:
    """One layer of the network as the layer-by-layer runner sees it: ``[upsample ×2] →
    reflection pad (kernel // 2) → conv (kernel, stride) → [norm] → [ReLU] → [+ the input of
    layer add_input_of]``. ``norm``: ``instance`` (the whole map's moments, then
    ``scale``/``shift``), ``fixed`` (``scale``/``shift`` only) or ``None``."""

    in_channels: int
    out_channels: int
    kernel: int
    stride: int = 1
    upsample: str | None = None
    norm: str | None = None
    activation: bool = False
    add_input_of: int | None = None
    eps: float = 1e-5


def layer_plan_json(plan: list[LayerSpec]) -> str:
    """The ``stylenet.layer_plan`` metadata value."""
    return json.dumps([asdict(spec) for spec in plan])


def parse_layer_plan(text: str) -> list[LayerSpec]:
    """``stylenet.layer_plan`` back into specs; raises ``ValueError`` (one line) when the value
    is not a well-formed, connected plan."""
    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"the layer plan is not JSON ({error.msg})") from error
    if not isinstance(items, list) or not items:
        raise ValueError("the layer plan must be a non-empty JSON list")
    plan: list[LayerSpec] = []
    fields = set(LayerSpec.__dataclass_fields__)
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not set(item) <= fields:
            raise ValueError(f"layer {index} of the plan is not a layer spec: {item!r:.80}")
        try:
            spec = LayerSpec(**item)
        except TypeError as error:
            raise ValueError(f"layer {index} of the plan: {error}") from error
        _check_spec(index, spec, plan)
        plan.append(spec)
    if plan[0].in_channels != 3 or plan[-1].out_channels != 3:
        raise ValueError("the layer plan must start and end with 3 channels")
    return plan


def _check_spec(index: int, spec: LayerSpec, before: list[LayerSpec]) -> None:
    ints = (spec.in_channels, spec.out_channels, spec.kernel, spec.stride)
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v < 65536 for v in ints):
        raise ValueError(f"layer {index}: channels, kernel and stride must be positive integers")
    if spec.kernel % 2 == 0:
        raise ValueError(f"layer {index}: kernel must be odd, got {spec.kernel}")
    if spec.upsample not in (None, *UPSAMPLE_MODES) or spec.norm not in (None, *NORM_KINDS):
        raise ValueError(f"layer {index}: unknown upsample {spec.upsample!r} or norm {spec.norm!r}")
    if not isinstance(spec.activation, bool):
        raise ValueError(f"layer {index}: activation must be true or false")
    if not isinstance(spec.eps, (int, float)) or not 0 < spec.eps < 1:
        raise ValueError(f"layer {index}: eps must be in (0, 1), got {spec.eps!r}")
    if before and before[-1].out_channels != spec.in_channels:
        raise ValueError(
            f"layer {index} takes {spec.in_channels} channels, layer {index - 1} gives "
            f"{before[-1].out_channels}"
        )
    source = spec.add_input_of
    if source is not None:
        if not isinstance(source, int) or not 0 <= source < index:
            raise ValueError(f"layer {index}: add_input_of must name an earlier layer")
        if before[source].in_channels != spec.out_channels:
            raise ValueError(f"layer {index}: the added input has the wrong channel count")


def layers_reference(file: str, sha256: str) -> str:
    """The value of ``stylenet.layers`` or ``stylenet.statistics_graph``: a file relative to
    the model's folder and its sha256."""
    return json.dumps({"file": file, "sha256": sha256})


def parse_layers_reference(text: str, key: str = LAYERS_KEY) -> tuple[str, str]:
    """``(file, sha256)`` from ``stylenet.layers`` (or another ``key`` holding a
    :func:`layers_reference`); ``ValueError`` when malformed. The file must be a bare name in
    the model's folder (format 3) or one in its ``tiling/`` folder (format 4)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{key} is not JSON ({error.msg})") from error
    if not isinstance(value, dict):
        raise ValueError(f"{key} must be a JSON object")
    file, digest = value.get("file"), value.get("sha256")
    parts = file.split("/") if isinstance(file, str) else []
    if (
        not isinstance(file, str)
        or not file.endswith(".onnx")
        or parts[:-1] not in ([], [TILING_FOLDER])
        or Path(parts[-1]).name != parts[-1]
        or parts[-1] in ("", ".", "..")
    ):
        raise ValueError(
            f"{key} must name an .onnx file beside the model or in its {TILING_FOLDER}/ "
            f"folder, got {file!r}"
        )
    if not isinstance(digest, str) or len(digest) != 64:
        raise ValueError(f"{key} must carry the file's sha256")
    return file, digest


def metadata_props(
    styles: list[str],
    facts: dict[str, Any],
    model_config: dict[str, Any],
    statistics_channels: list[int] | None = None,
    layers: str | None = None,
    statistics_graph: str | None = None,
) -> dict[str, str]:
    """The ``metadata_props`` of an exported model (all values are strings); ``layers`` and
    ``statistics_graph``: the ``stylenet.layers`` and ``stylenet.statistics_graph`` values
    (:func:`layers_reference`)."""
    props = {
        STYLES_KEY: json.dumps(list(styles)),
        FORMAT_KEY: str(FORMAT_VERSION),
        MODEL_KEY: json.dumps(model_config, sort_keys=True),
    }
    if statistics_channels:
        props[STATISTICS_KEY] = json.dumps([int(c) for c in statistics_channels])
    if layers is not None:
        props[LAYERS_KEY] = layers
    if statistics_graph is not None:
        props[STATISTICS_GRAPH_KEY] = statistics_graph
    for name, value in facts.items():
        props[FACT_PREFIX + str(name)] = json.dumps(value, default=str)
    return props


def facts_from_metadata(props: dict[str, str]) -> dict[str, Any]:
    """Training facts back from ``metadata_props`` (undecodable values stay strings)."""
    facts: dict[str, Any] = {}
    for key, value in props.items():
        if key.startswith(FACT_PREFIX):
            try:
                facts[key[len(FACT_PREFIX) :]] = json.loads(value)
            except json.JSONDecodeError:
                facts[key[len(FACT_PREFIX) :]] = value
    return facts


def statistics_channels_from_metadata(props: dict[str, str]) -> list[int] | None:
    """The statistics layout (channel counts) of a format-2 model, ``None`` if it has none."""
    if STATISTICS_KEY not in props:
        return None
    try:
        channels = json.loads(props[STATISTICS_KEY])
    except json.JSONDecodeError:
        return None
    if not isinstance(channels, list) or not all(isinstance(c, int) for c in channels):
        return None
    return channels


def io_contract(num_styles: int, multi_style: bool) -> dict[str, Any]:
    """The model's input/output contract as written into model cards (the app-facing graph;
    the tiling graphs are not part of it)."""
    inputs: list[dict[str, Any]] = [
        {"name": IMAGE_INPUT, "dtype": "float32", "shape": ["N", 3, "H", "W"]}
    ]
    if multi_style:
        inputs.append({"name": WEIGHTS_INPUT, "dtype": "float32", "shape": ["N", num_styles]})
    outputs: list[dict[str, Any]] = [
        {"name": OUTPUT, "dtype": "float32", "shape": ["N", 3, "H", "W"]}
    ]
    return {
        "inputs": inputs,
        "outputs": outputs,
        "color": "RGB",
        "value_range": [0, 255],
        "min_side": MIN_IMAGE_SIDE,
    }
