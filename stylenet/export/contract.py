"""The ONNX model contract: the one place that names inputs, outputs, metadata and the opset.

An exported stylenet model has
- input ``image``: float32 ``N×3×H×W`` RGB in [0, 255]; N, H, W dynamic, ``H, W >= 32``
  (the graph pads to a multiple of 4 and crops back);
- multi-style models only: input ``style_weights``: float32 ``N×S`` (a one-hot row = one style);
- output ``stylized``: float32 ``N×3×H×W`` RGB in [0, 255], the input's H and W;
- metadata_props: ``stylenet.styles`` (JSON list of the S style names),
  ``stylenet.format_version``, ``stylenet.model`` (the network config, JSON) and one
  ``stylenet.fact.<name>`` per training fact (JSON-encoded value).

Format 2 adds two-stage inference with shared instance-norm statistics (thumbnail instance
normalisation, Chen et al. 2022; layout in :mod:`stylenet.nn.statistics`):
- output ``observed_statistics``: float32 ``N×K``, every instance-norm layer's input means
  and variances in this run (stage 1: run a thumbnail of the whole image, read this);
- optional input ``statistics``: float32 ``N×K`` (stage 2: feed stage 1's output with every
  tile); its default, one row of NaN, means "each layer's own statistics", so an app that
  feeds only ``image`` (and ``style_weights``) and reads only ``stylized`` gets exactly the
  format-1 behaviour;
- metadata ``stylenet.statistics``: JSON list of the instance-norm layers' channel counts
  (``K = 2·sum``).
Format 3 adds exact layer-by-layer tiling (:mod:`stylenet.serve.layerwise`): a second graph,
the *layer graphs*, in a file beside the model (``wave.onnx`` → ``wave.layers.onnx``), named in
the model's metadata ``stylenet.layers`` (JSON ``{"file": name, "sha256": hex}``; variants
point at the fp32 model's file). The layer graphs file holds, for every convolution ``i`` of
the network in forward order:
- input ``window_<i>``: float32 ``N×C_in×h×w``, a window of the layer's input, already
  upsampled and reflection-padded (default: a one-pixel-output window of zeros, so a call
  feeds only the window it needs);
- output ``conv_<i>``: the convolution of that window (no padding inside the graph);
- outputs ``scale_<i>``, ``shift_<i>``: float32 ``N×C_out`` (or ``1×C_out``), the affine step
  after the layer's normalisation (the blend of the per-style (γ, β) for conditional instance
  norm, from input ``style_weights`` ``N×S`` for multi-style models); normalised layers only;
- metadata ``stylenet.layer_plan``: JSON list of :class:`LayerSpec` (how the layers connect).
The model graph itself is format 2's, so an app that reads only ``image``/``stylized`` is
unaffected. Formats 1 and 2 are still read; they cannot tile layer by layer.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from stylenet.nn.limits import MIN_SIDE

# Pinned opset: the torch.export-based exporter's native opset (no version conversion step);
# ONNX Runtime >= 1.14 runs it with every execution provider.
OPSET = 18
FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)

IMAGE_INPUT = "image"
WEIGHTS_INPUT = "style_weights"
OUTPUT = "stylized"
STATISTICS_INPUT = "statistics"
STATISTICS_OUTPUT = "observed_statistics"
DIM_NAMES = ("N", "H", "W")
MIN_IMAGE_SIDE = MIN_SIDE

STYLES_KEY = "stylenet.styles"
FORMAT_KEY = "stylenet.format_version"
MODEL_KEY = "stylenet.model"
STATISTICS_KEY = "stylenet.statistics"
FACT_PREFIX = "stylenet.fact."
LAYERS_KEY = "stylenet.layers"
LAYER_PLAN_KEY = "stylenet.layer_plan"
LAYERS_SUFFIX = ".layers.onnx"
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
    """``wave.onnx`` → ``wave.layers.onnx``: the layer graphs' file beside a model."""
    stem = model_file[: -len(".onnx")] if model_file.endswith(".onnx") else model_file
    return stem + LAYERS_SUFFIX


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
    """The ``stylenet.layers`` metadata value of a format-3 model."""
    return json.dumps({"file": file, "sha256": sha256})


def parse_layers_reference(text: str) -> tuple[str, str]:
    """``(file name, sha256)`` from ``stylenet.layers``; ``ValueError`` when malformed (the
    file name must be a bare name in the model's folder)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{LAYERS_KEY} is not JSON ({error.msg})") from error
    if not isinstance(value, dict):
        raise ValueError(f"{LAYERS_KEY} must be a JSON object")
    file, digest = value.get("file"), value.get("sha256")
    if not isinstance(file, str) or Path(file).name != file or not file.endswith(".onnx"):
        raise ValueError(f"{LAYERS_KEY} must name an .onnx file beside the model, got {file!r}")
    if not isinstance(digest, str) or len(digest) != 64:
        raise ValueError(f"{LAYERS_KEY} must carry the file's sha256")
    return file, digest


def metadata_props(
    styles: list[str],
    facts: dict[str, Any],
    model_config: dict[str, Any],
    statistics_channels: list[int] | None = None,
    layers: str | None = None,
) -> dict[str, str]:
    """The ``metadata_props`` of an exported model (all values are strings); ``layers``: the
    ``stylenet.layers`` value (:func:`layers_reference`)."""
    props = {
        STYLES_KEY: json.dumps(list(styles)),
        FORMAT_KEY: str(FORMAT_VERSION),
        MODEL_KEY: json.dumps(model_config, sort_keys=True),
    }
    if statistics_channels:
        props[STATISTICS_KEY] = json.dumps([int(c) for c in statistics_channels])
    if layers is not None:
        props[LAYERS_KEY] = layers
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


def io_contract(num_styles: int, multi_style: bool, statistics_size: int = 0) -> dict[str, Any]:
    """The input/output contract as written into model cards (``statistics_size`` = K)."""
    inputs: list[dict[str, Any]] = [
        {"name": IMAGE_INPUT, "dtype": "float32", "shape": ["N", 3, "H", "W"]}
    ]
    if multi_style:
        inputs.append({"name": WEIGHTS_INPUT, "dtype": "float32", "shape": ["N", num_styles]})
    outputs: list[dict[str, Any]] = [
        {"name": OUTPUT, "dtype": "float32", "shape": ["N", 3, "H", "W"]}
    ]
    if statistics_size:
        shape = ["N", statistics_size]
        inputs.append(
            {"name": STATISTICS_INPUT, "dtype": "float32", "shape": shape, "optional": True}
        )
        outputs.append({"name": STATISTICS_OUTPUT, "dtype": "float32", "shape": shape})
    return {
        "inputs": inputs,
        "outputs": outputs,
        "color": "RGB",
        "value_range": [0, 255],
        "min_side": MIN_IMAGE_SIDE,
    }
