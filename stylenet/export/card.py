"""Model cards: a JSON file next to every exported model saying what it is and how it was checked."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnx
import onnxruntime
import torch

from stylenet.data.atomic import atomic_path
from stylenet.export.contract import FORMAT_VERSION, OPSET, io_contract
from stylenet.nn.checkpoint import ModelInfo
from stylenet.styles import is_multi_style


@dataclass
class Parity:
    """How one exported file compared with PyTorch (0–255 scale)."""

    max_abs_diff: float
    mean_abs_diff: float
    tolerance: float
    sizes: list[tuple[int, int]] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)


def card_path(model_path: str | os.PathLike[str]) -> Path:
    """``model.onnx`` → ``model.json``; ``model.int8.onnx`` → ``model.int8.json``."""
    return Path(model_path).with_suffix(".json")


def sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def model_card(
    model_path: str | os.PathLike[str],
    info: ModelInfo,
    model_config: dict[str, Any],
    variant: str,
    parity: Parity,
) -> dict[str, Any]:
    """The card of the exported file at ``model_path``."""
    file = Path(model_path)
    multi_style = is_multi_style(norm=model_config.get("norm"), num_styles=len(info.styles))
    return {
        "name": file.stem,
        "file": file.name,
        "format_version": FORMAT_VERSION,
        "variant": variant,
        "styles": list(info.styles),
        "facts": dict(info.facts),
        "model": dict(model_config),
        "opset": OPSET,
        "contract": io_contract(len(info.styles), multi_style),
        "parity": {
            "max_abs_diff": parity.max_abs_diff,
            "mean_abs_diff": parity.mean_abs_diff,
            "tolerance": parity.tolerance,
            "scale": "0-255",
            "reference": "PyTorch fp32 eager",
            "sizes": [list(s) for s in parity.sizes],
            "batches": list(parity.batches),
        },
        "file_size": file.stat().st_size,
        "sha256": sha256(file),
        "exported_with": {
            "torch": torch.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__,
        },
    }


def write_card(card: dict[str, Any], model_path: str | os.PathLike[str]) -> Path:
    """Write ``card`` atomically as pretty JSON next to the model; returns the card's path."""
    target = card_path(model_path)
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(card, indent=2, default=str) + "\n", encoding="utf-8")
    return target
