"""Read a trained transformer network back from a training checkpoint, without Lightning.

Checkpoint contract (written by the LightningModules in ``stylenet.lit``): a ``torch.save``d
dict with
- ``state_dict``: the LightningModule's weights; the network's are under the ``net.`` prefix;
- ``hyper_parameters["model"]``: the :class:`TransformerNet` keyword arguments
  (``TransformerNet.config``);
- ``hyper_parameters["styles"]``: the style names, in the order of ``style_weights`` columns;
- ``hyper_parameters["facts"]`` (optional): training facts for model cards (steps, weights…).
"""

from __future__ import annotations

import os
import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from stylenet.errors import CheckpointError
from stylenet.nn.transformer import TransformerNet

NET_PREFIX = "net."


@dataclass
class ModelInfo:
    """What a trained network knows about itself: its style names and training facts."""

    styles: list[str]
    facts: dict[str, Any] = field(default_factory=dict)


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a checkpoint dict on the CPU; corrupt or missing files raise :class:`CheckpointError`."""
    file = Path(path)
    if not file.is_file():
        raise CheckpointError(f"checkpoint not found: {file} (check the path)")
    try:
        checkpoint = torch.load(file, map_location="cpu", weights_only=False)
    except (
        RuntimeError,
        EOFError,
        pickle.UnpicklingError,
        zipfile.BadZipFile,
        ValueError,
        AttributeError,
    ) as error:
        raise CheckpointError(
            f"corrupt or unreadable checkpoint {file} ({type(error).__name__}); "
            "use another checkpoint (e.g. last.ckpt) from the run's checkpoints/ folder"
        ) from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise CheckpointError(f"{file} is not a stylenet training checkpoint (no state_dict)")
    return checkpoint


def load_transformer(path: str | os.PathLike[str]) -> tuple[TransformerNet, ModelInfo]:
    """Rebuild the trained :class:`TransformerNet` (eval mode) and its :class:`ModelInfo`."""
    checkpoint = read_checkpoint(path)
    hparams = checkpoint.get("hyper_parameters") or {}
    if "model" not in hparams or "styles" not in hparams:
        raise CheckpointError(
            f"{path} lacks the model config or style names; was it written by stylenet-train?"
        )
    net = TransformerNet(**dict(hparams["model"]))
    weights = {
        key[len(NET_PREFIX) :]: value
        for key, value in checkpoint["state_dict"].items()
        if key.startswith(NET_PREFIX)
    }
    try:
        net.load_state_dict(weights)
    except RuntimeError as error:
        first = str(error).splitlines()[0]
        raise CheckpointError(f"{path}: weights do not match the model config ({first})") from None
    net.eval()
    facts = dict(hparams.get("facts") or {})
    facts.setdefault("global_step", checkpoint.get("global_step"))
    return net, ModelInfo(styles=[str(s) for s in hparams["styles"]], facts=facts)
