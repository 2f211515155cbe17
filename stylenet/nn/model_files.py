"""Read model files given by users without running code from them.

Model files are untrusted input. Only two kinds are read, both with
``torch.load(weights_only=True)``, which builds tensors and plain containers and refuses a
pickle that asks to call anything else before it runs:

- a state dict (``torch.save(model.state_dict(), path)``), loaded into an architecture the
  caller builds (:func:`read_state_dict`);
- a whole module made only of ``torch.nn`` layers (``torch.save(nn.Sequential(...), path)``),
  whose classes are allow-listed as safe globals (:func:`read_module`): their pickled state is
  set without calling their ``__init__``, and a custom class is refused.

TorchScript archives and ``torch.export`` (``.pt2``) files are refused: PyTorch's security
policy treats TorchScript as executable code (``torch.jit.load`` has no safe mode), and
``torch.export.load`` falls back to ``torch.load(weights_only=False)`` for artifacts that fail
the weights-only load.
"""

from __future__ import annotations

import inspect
import pickle
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from stylenet.errors import ModelFileError

PROGRAM_SUFFIXES = (".pt2", ".ts", ".jit", ".ptl")


def torch_nn_layers() -> list[type[nn.Module]]:
    """Every public ``torch.nn`` module class (the safe globals of :func:`read_module`)."""
    return [
        value
        for value in vars(nn).values()
        if inspect.isclass(value) and issubclass(value, nn.Module)
    ]


def program_kind(path: Path) -> str | None:
    """``"TorchScript"`` / ``"torch.export"`` when ``path`` is such an archive, else None."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        names = []
    if any("/code/" in name for name in names) or path.suffix in (".ts", ".jit", ".ptl"):
        return "TorchScript"
    exported = ("serialized_exported_program.json", "archive_format", "/models/")
    if path.suffix == ".pt2" or any(key in name for name in names for key in exported):
        return "torch.export"
    return None


def _load(path: Path, instead: str, safe: list[Any]) -> Any:
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path} (check the path)")
    kind = program_kind(path)
    if kind is not None:
        raise ModelFileError(
            f"refusing to load {path}: a {kind} file is a program and can run code when "
            f"loaded; {instead}"
        )
    try:
        with torch.serialization.safe_globals(safe):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        opcode = re.search(r"Unsupported operand (\d+)", str(error))
        if opcode:
            raise ModelFileError(
                f"refusing to load {path}: it is not a weights-only torch file (pickle opcode "
                f"{opcode.group(1)} is not allowed); {instead}"
            ) from error
        unsafe = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(error))
        if unsafe or "Weights only load failed" in str(error):
            what = unsafe.group(1) if unsafe else "objects other than tensors and torch.nn layers"
            raise ModelFileError(
                f"refusing to load {path}: it asks to run or build {what}; {instead}"
            ) from error
        raise _unreadable(path, error, instead) from error
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, AttributeError) as error:
        raise _unreadable(path, error, instead) from error


def _unreadable(path: Path, error: BaseException, instead: str) -> ModelFileError:
    return ModelFileError(f"cannot read {path} as a torch file ({type(error).__name__}); {instead}")


def read_state_dict(path: str | Path, *, instead: str) -> dict[str, torch.Tensor]:
    """The tensors of a state-dict file (also under a ``state_dict`` key), weights-only.

    ``instead`` (what the user should give) ends every error line.
    """
    file = Path(path)
    loaded = _load(file, instead, [])
    if isinstance(loaded, Mapping) and isinstance(loaded.get("state_dict"), Mapping):
        loaded = loaded["state_dict"]
    if not isinstance(loaded, Mapping) or not loaded:
        raise ModelFileError(f"{file} holds a {type(loaded).__name__}, not a state dict; {instead}")
    wrong = [key for key, value in loaded.items() if not isinstance(value, torch.Tensor)]
    if wrong:
        raise ModelFileError(f"{file} is not a state dict: {wrong[0]!r} is not a tensor; {instead}")
    return dict(loaded)


def read_module(path: str | Path, *, instead: str) -> nn.Module | dict[str, torch.Tensor]:
    """A whole module of ``torch.nn`` layers, or a state dict, from ``path`` (weights-only).

    The caller decides what to do with a state dict; anything else is a :class:`ModelFileError`.
    """
    file = Path(path)
    loaded = _load(file, instead, list(torch_nn_layers()))
    if isinstance(loaded, nn.Module):
        return loaded
    if isinstance(loaded, Mapping) and all(isinstance(v, torch.Tensor) for v in loaded.values()):
        return dict(loaded)
    raise ModelFileError(f"{file} holds a {type(loaded).__name__}, not a model; {instead}")


def load_weights(model: nn.Module, weights: Mapping[str, torch.Tensor], file: Path) -> None:
    """``model.load_state_dict(weights)`` with a one-line error naming the first mismatch."""
    expected = model.state_dict()
    missing = [key for key in expected if key not in weights]
    unknown = [key for key in weights if key not in expected]
    shapes = [
        key
        for key in expected
        if key in weights and tuple(weights[key].shape) != tuple(expected[key].shape)
    ]
    if missing or unknown or shapes:
        if shapes:
            key = shapes[0]
            detail = (
                f"{key} has shape {tuple(weights[key].shape)}, not {tuple(expected[key].shape)}"
            )
        elif missing:
            detail = f"{len(missing)} weights are missing, e.g. {missing[0]}"
        else:
            detail = f"{len(unknown)} weights are unknown, e.g. {unknown[0]}"
        raise ModelFileError(f"{file} does not fit the architecture: {detail}")
    model.load_state_dict(weights)
