"""The models a server offers: loaded stylizers, their cards, ONNX files and ETags."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stylenet.contract import LAYERS_SUFFIX
from stylenet.data.digest import file_sha256
from stylenet.errors import ConfigError, ModelFileError
from stylenet.resources import shipped_models_dir
from stylenet.serve.http import inference

log = logging.getLogger(__name__)

MODEL_SUFFIXES = (".onnx", ".ckpt", ".pt", ".pth")


@dataclass
class ServedModel:
    """One loaded model: ``name`` (URL key), its file, stylizer and card (a JSON object)."""

    name: str
    path: Path
    stylizer: Any
    card: dict[str, Any]
    sha256: str

    @property
    def styles(self) -> list[str]:
        return list(self.stylizer.styles)

    @property
    def is_onnx(self) -> bool:
        return self.path.suffix.lower() == ".onnx"

    def summary(self) -> dict[str, Any]:
        """The public description: name, styles, file facts and the model card."""
        return {
            "name": self.name,
            "styles": self.styles,
            "multi_style": len(self.styles) > 1,
            "format": "onnx" if self.is_onnx else "checkpoint",
            "file_size": self.path.stat().st_size,
            "sha256": self.sha256,
            "onnx_url": f"/v1/models/{self.name}/onnx" if self.is_onnx else None,
            "card": self.card,
        }


def model_files(specs: Sequence[str]) -> list[Path]:
    """``models=`` entries → model files: a folder gives its ``.onnx`` models (sorted; not the
    layer graphs beside them), a bare
    name a shipped model; no entries = every shipped model."""
    from stylenet.serve.loader import resolve_model

    if not specs:
        shipped = [f for f in sorted(shipped_models_dir().glob("*.onnx")) if "." not in f.stem]
        if not shipped:
            raise ConfigError(f"no shipped models in {shipped_models_dir()}; give models=")
        return shipped
    files: list[Path] = []
    for spec in specs:
        path = Path(str(spec)).expanduser()
        if path.is_dir():
            found = [f for f in sorted(path.glob("*.onnx")) if not f.name.endswith(LAYERS_SUFFIX)]
            if not found:
                raise ConfigError(f"models= folder {path} has no .onnx files")
            files.extend(found)
            continue
        path = resolve_model(str(spec))
        if path.suffix.lower() not in MODEL_SUFFIXES:
            raise ConfigError(f"models= entry {spec!r} is not a .onnx or .ckpt model")
        if not path.is_file():
            raise ModelFileError(f"model file not found: {path} (check models=)")
        files.append(path)
    return files


def read_card(path: Path, stylizer: Any) -> dict[str, Any]:
    """The model card next to the file (``NAME.json``), else one built from the model."""
    card_file = path.with_suffix(".json")
    if card_file.is_file():
        try:
            card = json.loads(card_file.read_text(encoding="utf-8"))
            if isinstance(card, dict):
                return card
        except (OSError, ValueError):
            log.warning("unreadable model card %s; describing the model itself", card_file)
    return {"name": path.stem, "styles": list(stylizer.styles), "facts": dict(stylizer.facts)}


def load_models(
    specs: Sequence[str],
    *,
    providers: Sequence[str] | None = None,
    intra_op_threads: int = 0,
) -> dict[str, ServedModel]:
    """Open every model of ``models=``; names are file stems and must be unique."""
    served: dict[str, ServedModel] = {}
    for path in model_files(specs):
        name = path.stem
        if name in served:
            raise ConfigError(
                f"two models are named {name!r} ({served[name].path} and {path}); rename one"
            )
        stylizer = inference.open_model(
            path, providers=providers, intra_op_threads=intra_op_threads
        )
        served[name] = ServedModel(
            name=name,
            path=path.resolve(),
            stylizer=stylizer,
            card=read_card(path, stylizer),
            sha256=file_sha256(path),
        )
        log.info("serving %s (%s)", name, ", ".join(stylizer.styles))
    return served
