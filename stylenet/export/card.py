"""Model cards: a JSON file next to every exported model saying what it is and how it was
checked. The schema is :class:`stylenet.model_card.ModelCard`; this module fills it in."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from stylenet.contract import (
    FORMAT_VERSION,
    OPSET,
    io_contract,
)
from stylenet.data.digest import file_sha256
from stylenet.model_card import ModelCard, Parity, card_path
from stylenet.nn.checkpoint import ModelInfo
from stylenet.provenance import software_versions
from stylenet.styles import is_multi_style

__all__ = ["ModelCard", "Parity", "card_path", "model_card", "write_card"]


def model_card(
    model_path: str | os.PathLike[str],
    info: ModelInfo,
    model_config: dict[str, Any],
    variant: str,
    parity: Parity,
) -> ModelCard:
    """The card of the exported file at ``model_path``."""
    file = Path(model_path)
    multi_style = is_multi_style(norm=model_config.get("norm"), num_styles=len(info.styles))
    return ModelCard(
        name=file.stem,
        file=file.name,
        format_version=FORMAT_VERSION,
        variant=variant,
        styles=[str(s) for s in info.styles],
        facts=dict(info.facts),
        model=dict(model_config),
        opset=OPSET,
        contract=io_contract(len(info.styles), multi_style),
        parity=Parity(
            max_abs_diff=float(parity.max_abs_diff),
            mean_abs_diff=float(parity.mean_abs_diff),
            tolerance=float(parity.tolerance),
            sizes=[[int(v) for v in size] for size in parity.sizes],
            batches=[int(b) for b in parity.batches],
            scale=parity.scale,
            reference=parity.reference,
        ),
        file_size=file.stat().st_size,
        sha256=file_sha256(file),
        exported_with=software_versions(("torch", "onnx", "onnxruntime")),
    )


def write_card(card: ModelCard, model_path: str | os.PathLike[str]) -> Path:
    """Write ``card`` atomically as pretty JSON next to the model; returns the card's path."""
    return card.write(card_path(model_path))
