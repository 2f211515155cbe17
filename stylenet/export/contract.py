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
Format 1 files (no statistics input/output) are still read; they tile with per-tile statistics.
"""

from __future__ import annotations

import json
from typing import Any

from stylenet.nn.limits import MIN_SIDE

# Pinned opset: the torch.export-based exporter's native opset (no version conversion step);
# ONNX Runtime >= 1.14 runs it with every execution provider.
OPSET = 18
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)

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


def metadata_props(
    styles: list[str],
    facts: dict[str, Any],
    model_config: dict[str, Any],
    statistics_channels: list[int] | None = None,
) -> dict[str, str]:
    """The ``metadata_props`` of an exported model (all values are strings)."""
    props = {
        STYLES_KEY: json.dumps(list(styles)),
        FORMAT_KEY: str(FORMAT_VERSION),
        MODEL_KEY: json.dumps(model_config, sort_keys=True),
    }
    if statistics_channels:
        props[STATISTICS_KEY] = json.dumps([int(c) for c in statistics_channels])
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
