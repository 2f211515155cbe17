"""Load the fast (feed-forward) model under evaluation, without running code from its file."""

from __future__ import annotations

from pathlib import Path

import torch

from stylenet.errors import ModelFileError
from stylenet.eval.fast_vs_gatys import FastStylizer
from stylenet.nn.model_files import read_module

FAST_INSTEAD = (
    "give the training checkpoint (.ckpt), the exported .onnx, a shipped model name, or a "
    "module made only of torch.nn layers saved with torch.save(module, path)"
)


def load_fast_model(path: str | Path) -> FastStylizer:
    """A stylizer ``N×3×H×W`` RGB 0–255 → same from a file read without running its code.

    Training checkpoints (``.ckpt``), exported ONNX models and shipped model names go through
    :func:`stylenet.serve.loader.load_stylizer`; other files must hold a whole module of
    ``torch.nn`` layers (:func:`stylenet.nn.model_files.read_module`).
    """
    if Path(path).suffix.lower() in (".ckpt", ".onnx") or not Path(path).suffix:
        from stylenet.serve.loader import load_stylizer

        stylizer = load_stylizer(str(path), device="cpu")
        return lambda batch: torch.from_numpy(stylizer(batch.detach().cpu().numpy()))
    file = Path(path)
    if not file.is_file():
        raise ModelFileError(f"fast model not found: {file} (give --model PATH)")
    module = read_module(file, instead=FAST_INSTEAD)
    if not isinstance(module, torch.nn.Module):
        raise ModelFileError(f"{file} holds a state_dict, not an nn.Module; {FAST_INSTEAD}")
    module.eval()

    def stylize(batch: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return module(batch)

    return stylize
