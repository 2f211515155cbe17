"""The ONNX model contract: the one place that names inputs, outputs, metadata and the opset.

An exported stylenet model has
- input ``image``: float32 ``N×3×H×W`` RGB in [0, 255]; N, H, W dynamic, ``H, W >= 32``
  (the graph pads to a multiple of 4 and crops back);
- multi-style models only: input ``style_weights``: float32 ``N×S`` (a one-hot row = one style);
- output ``stylized``: float32 ``N×3×H×W`` RGB in [0, 255], the input's H and W;
- metadata_props: ``stylenet.styles`` (JSON list of the S style names),
  ``stylenet.format_version``, ``stylenet.model`` (the network config, JSON) and one
  ``stylenet.fact.<name>`` per training fact (JSON-encoded value).
"""

from __future__ import annotations

import json
from typing import Any

from stylenet.nn.limits import MIN_SIDE

# Pinned opset: the torch.export-based exporter's native opset (no version conversion step);
# ONNX Runtime >= 1.14 runs it with every execution provider.
OPSET = 18
FORMAT_VERSION = 1

IMAGE_INPUT = "image"
WEIGHTS_INPUT = "style_weights"
OUTPUT = "stylized"
DIM_NAMES = ("N", "H", "W")
MIN_IMAGE_SIDE = MIN_SIDE

STYLES_KEY = "stylenet.styles"
FORMAT_KEY = "stylenet.format_version"
MODEL_KEY = "stylenet.model"
FACT_PREFIX = "stylenet.fact."


def metadata_props(
    styles: list[str], facts: dict[str, Any], model_config: dict[str, Any]
) -> dict[str, str]:
    """The ``metadata_props`` of an exported model (all values are strings)."""
    props = {
        STYLES_KEY: json.dumps(list(styles)),
        FORMAT_KEY: str(FORMAT_VERSION),
        MODEL_KEY: json.dumps(model_config, sort_keys=True),
    }
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


def io_contract(num_styles: int, multi_style: bool) -> dict[str, Any]:
    """The input/output contract as written into model cards."""
    inputs = [{"name": IMAGE_INPUT, "dtype": "float32", "shape": ["N", 3, "H", "W"]}]
    if multi_style:
        inputs.append({"name": WEIGHTS_INPUT, "dtype": "float32", "shape": ["N", num_styles]})
    return {
        "inputs": inputs,
        "outputs": [{"name": OUTPUT, "dtype": "float32", "shape": ["N", 3, "H", "W"]}],
        "color": "RGB",
        "value_range": [0, 255],
        "min_side": MIN_IMAGE_SIDE,
    }
