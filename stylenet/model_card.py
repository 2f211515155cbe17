"""The model card: the JSON file next to every exported model, as a typed record.

One schema for the writer (:mod:`stylenet.export.card`) and the readers (``stylenet.serve``,
apps): :meth:`ModelCard.from_dict` checks every field's presence and type, as torchvision
checks its weights' ``meta``, so a card that drifts from the schema is an error where it is
read, not a ``KeyError`` somewhere later. Plain Python: no torch, no ONNX.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stylenet.data.atomic import atomic_path
from stylenet.errors import ModelFileError
from stylenet.styles import is_multi_style

CARD_SUFFIX = ".json"


@dataclass(frozen=True)
class Parity:
    """How the exported file compared with PyTorch: absolute differences on the 0–255 scale
    over test images of ``sizes`` (H, W) in batches of ``batches``."""

    max_abs_diff: float
    mean_abs_diff: float
    tolerance: float
    sizes: list[list[int]] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)
    scale: str = "0-255"
    reference: str = "PyTorch fp32 eager"


@dataclass(frozen=True)
class ModelCard:
    """What an exported model is (styles, network, contract), how it was trained (``facts``)
    and how it was checked (``parity``, ``sha256``)."""

    name: str
    file: str
    format_version: int
    variant: str
    styles: list[str]
    facts: dict[str, Any]
    model: dict[str, Any]
    opset: int
    contract: dict[str, Any]
    parity: Parity
    file_size: int
    sha256: str
    exported_with: dict[str, str]

    @property
    def multi_style(self) -> bool:
        """Whether the model takes ``style_weights`` (:func:`stylenet.styles.is_multi_style`)."""
        return is_multi_style(norm=self.model.get("norm"), num_styles=len(self.styles))

    @property
    def steps(self) -> int | None:
        """Training steps, when the card records them."""
        steps = self.facts.get("steps")
        return None if steps is None else int(steps)

    def to_dict(self) -> dict[str, Any]:
        """The card as JSON-ready dicts and lists."""
        return json.loads(json.dumps(dataclasses.asdict(self), default=str))

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "model card") -> ModelCard:
        """Check ``data`` (parsed JSON) against the schema; :class:`ModelFileError` names the
        first missing, unknown or mistyped field."""
        return _build(cls, data, source)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> ModelCard:
        """Read and check the card at ``path``."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as error:
            raise ModelFileError(f"cannot read model card {path}: {error.strerror}") from error
        except ValueError as error:
            raise ModelFileError(f"model card {path} is not JSON ({error})") from error
        return cls.from_dict(data, source=f"model card {path}")

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the card atomically as pretty JSON; returns ``path``."""
        target = Path(path)
        with atomic_path(target) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return target


def card_path(model_path: str | os.PathLike[str]) -> Path:
    """``model.onnx`` → ``model.json``; ``model.int8.onnx`` → ``model.int8.json``."""
    return Path(model_path).with_suffix(CARD_SUFFIX)


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ModelFileError(f"{where} must be a JSON object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ModelFileError(f"{where} has unknown field(s) {', '.join(unknown)}")
    values = {}
    for name, spec in fields.items():
        if name not in data:
            has_default = spec.default is not dataclasses.MISSING
            if has_default or spec.default_factory is not dataclasses.MISSING:
                continue
            raise ModelFileError(f"{where} lacks the field {name!r}; re-export the model")
        values[name] = _value(data[name], hints[name], f"{where}: {name}")
    return cls(**values)


def _value(value: Any, hint: Any, where: str) -> Any:
    """``value`` checked against the type ``hint`` (dataclass, list, dict, scalar or Any)."""
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _build(hint, value, where)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        return value if value is None and type(None) in args else _value(value, args[0], where)
    if origin is list:
        if not isinstance(value, list):
            raise ModelFileError(f"{where} must be a list, got {value!r}")
        return [_value(item, args[0], f"{where}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise ModelFileError(f"{where} must be an object, got {value!r}")
        return {k: _value(v, args[1], f"{where}.{k}") for k, v in value.items()}
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, hint) and not (hint is int and isinstance(value, bool)):
        return value
    raise ModelFileError(f"{where} must be {hint.__name__}, got {value!r}")
