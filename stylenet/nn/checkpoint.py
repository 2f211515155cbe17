"""Read a trained transformer network back from a training checkpoint, without Lightning.

Checkpoint contract (written by the LightningModules in ``stylenet.lit``): a ``torch.save``d
dict with
- ``state_dict``: the LightningModule's weights; the network's are under the ``net.`` prefix;
- ``hyper_parameters["model"]``: the :class:`TransformerNet` keyword arguments
  (``TransformerNet.config``);
- ``hyper_parameters["styles"]``: the style names, in the order of ``style_weights`` columns;
- ``hyper_parameters["facts"]`` (optional): training facts for model cards (steps, weights…),
  including ``weights_sha256``, the :func:`weights_checksum` of the network's weights.

Checkpoints are untrusted input: they are read with ``torch.load(weights_only=True)`` (tensors
and plain containers only; a pickle that asks to call anything else is refused before it runs)
and everything read is checked against the network before it is used. Lightning's own entries
(loops, callbacks, optimizer states) are plain values too, so no extra safe globals are needed;
``tests/nn/test_checkpoint.py`` saves a real training checkpoint to keep it that way.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import pickle
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from stylenet.errors import CheckpointError, StylenetError
from stylenet.nn.transformer import TransformerNet

NET_PREFIX = "net."
CHECKSUM_FACT = "weights_sha256"


@dataclass
class ModelInfo:
    """What a trained network knows about itself: its style names and training facts."""

    styles: list[str]
    facts: dict[str, Any] = field(default_factory=dict)


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a checkpoint dict on the CPU with ``weights_only=True``.

    Missing, corrupt, code-carrying or non-stylenet files raise :class:`CheckpointError`.
    """
    file = Path(path)
    if not file.is_file():
        raise CheckpointError(f"checkpoint not found: {file} (check the path)")
    try:
        checkpoint = torch.load(file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        unsafe = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(error))
        # plain garbage also fails the weights-only unpickler ("Unsupported operand"); a
        # torch.save file that names no class is a zip archive
        if unsafe or ("Weights only load failed" in str(error) and zipfile.is_zipfile(file)):
            what = unsafe.group(1) if unsafe else "objects other than tensors"
            raise CheckpointError(
                f"refusing to load {file}: it asks to run or build {what}, which a weights-only "
                "checkpoint never does (the file is not a stylenet checkpoint or was tampered with)"
            ) from error
        raise _corrupt(file, error) from error
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, AttributeError) as error:
        raise _corrupt(file, error) from error
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("state_dict"), Mapping):
        raise CheckpointError(f"{file} is not a stylenet training checkpoint (no state_dict)")
    return checkpoint


def _corrupt(file: Path, error: BaseException) -> CheckpointError:
    return CheckpointError(
        f"corrupt or unreadable checkpoint {file} ({type(error).__name__}); "
        "use another checkpoint (e.g. last.ckpt) from the run's checkpoints/ folder"
    )


def weights_checksum(weights: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 of a state dict: for each key in sorted order, its name, dtype, shape and bytes
    (row-major, whatever the tensor's memory format)."""
    digest = hashlib.sha256()
    for key in sorted(weights):
        tensor = weights[key].detach().cpu().contiguous()
        digest.update(f"{key}\0{tensor.dtype}\0{tuple(tensor.shape)}\0".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def network_weights(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The ``net.`` entries of a LightningModule state dict, prefix removed."""
    return {
        key[len(NET_PREFIX) :]: value
        for key, value in state_dict.items()
        if isinstance(key, str) and key.startswith(NET_PREFIX)
    }


def model_config(hparams: Mapping[str, Any], file: str | os.PathLike[str]) -> dict[str, Any]:
    """``hyper_parameters["model"]`` checked against :class:`TransformerNet`'s signature."""
    config = hparams.get("model")
    if not isinstance(config, Mapping):
        raise CheckpointError(
            f"{file} lacks the model config (hyper_parameters.model); "
            "was it written by stylenet-train?"
        )
    accepted = set(inspect.signature(TransformerNet).parameters)
    unknown = sorted(str(key) for key in config if key not in accepted)
    if unknown:
        raise CheckpointError(
            f"{file}: unknown model hyper-parameter(s) {', '.join(unknown)}; "
            f"TransformerNet takes {', '.join(sorted(accepted))}"
        )
    kinds: dict[str, type | tuple[type, ...]] = {
        "width": (int, float),
        "norm": str,
        "upsample": str,
    }
    for key, value in config.items():
        if isinstance(value, bool) or not isinstance(value, kinds.get(key, int)):
            raise CheckpointError(
                f"{file}: model hyper-parameter {key}={value!r} has the wrong type"
            )
    return dict(config)


def check_network(
    config: Mapping[str, Any],
    weights: Mapping[str, Any],
    file: str | os.PathLike[str],
    *,
    styles: list[str] | None = None,
) -> None:
    """Check that ``weights`` (and ``styles``) fit the network ``config`` describes.

    The network is built on the ``meta`` device, so a hostile config allocates nothing.
    """
    if not weights:
        raise CheckpointError(
            f"{file} holds no network weights (no {NET_PREFIX}* entries in its state_dict); "
            "it is not a stylenet checkpoint"
        )
    blocks = config.get("num_res_blocks", 0)
    if 4 * blocks > len(weights):  # a residual block holds at least 4 weights
        raise CheckpointError(f"{file}: num_res_blocks={blocks} does not fit its weights")
    try:
        with torch.device("meta"):
            expected = TransformerNet(**config)
    except StylenetError as error:
        raise CheckpointError(f"{file}: bad model hyper-parameters ({error})") from error
    if styles is not None and len(styles) != expected.num_styles:
        raise CheckpointError(
            f"{file} names {len(styles)} style(s) but its network has {expected.num_styles}; "
            "the checkpoint is inconsistent"
        )
    shapes = {key: tuple(value.shape) for key, value in expected.state_dict().items()}
    missing = [key for key in shapes if key not in weights]
    extra = [key for key in weights if key not in shapes]
    if missing or extra:
        detail = f"missing {missing[0]}" if missing else f"unexpected {extra[0]}"
        raise CheckpointError(
            f"{file}: weights do not match the model config ({len(missing)} missing, "
            f"{len(extra)} unexpected, e.g. {detail}); is it a checkpoint of this model?"
        )
    for key, shape in shapes.items():
        value = weights[key]
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            raise CheckpointError(f"{file}: weight {key} is not a float tensor")
        if tuple(value.shape) != shape:
            raise CheckpointError(
                f"{file}: weights do not match the model config ({key} has shape "
                f"{tuple(value.shape)}, the network needs {shape})"
            )


def check_checksum(facts: Mapping[str, Any], weights: Mapping[str, Any], file: Path) -> None:
    """Compare the stored :data:`CHECKSUM_FACT` (when present) with the weights read."""
    stored = facts.get(CHECKSUM_FACT)
    if stored is not None and stored != weights_checksum(weights):
        raise CheckpointError(
            f"corrupt checkpoint {file}: its weights do not match their stored sha256 checksum "
            "(the file was damaged or altered); use another copy or checkpoint"
        )


def verify_checkpoint(
    path: str | os.PathLike[str],
) -> tuple[dict[str, Any], dict[str, Any], ModelInfo]:
    """Read and check a checkpoint: ``(checkpoint, model config, ModelInfo)``.

    Checks the model hyper-parameters against :class:`TransformerNet`'s signature, the style
    names against the network's style count, the weights' names and shapes, and the stored
    weights checksum; any mismatch raises :class:`CheckpointError`.
    """
    file = Path(path)
    checkpoint = read_checkpoint(file)
    hparams = checkpoint.get("hyper_parameters")
    if not isinstance(hparams, Mapping):
        raise CheckpointError(
            f"{file} lacks the model config or style names; was it written by stylenet-train?"
        )
    styles = hparams.get("styles")
    if not isinstance(styles, (list, tuple)) or not all(isinstance(s, str) for s in styles):
        raise CheckpointError(f"{file} lacks the style names (hyper_parameters.styles)")
    config = model_config(hparams, file)
    weights = network_weights(checkpoint["state_dict"])
    check_network(config, weights, file, styles=list(styles))
    facts = hparams.get("facts") or {}
    if not isinstance(facts, Mapping):
        raise CheckpointError(f"{file}: hyper_parameters.facts is not a mapping")
    check_checksum(facts, weights, file)
    facts = dict(facts)
    facts.setdefault("global_step", checkpoint.get("global_step"))
    return checkpoint, config, ModelInfo(styles=list(styles), facts=facts)


def check_resumable(
    path: str | os.PathLike[str], model: Mapping[str, Any], styles: list[str] | None
) -> None:
    """Check that checkpoint ``path`` holds the network a run configured with ``model``
    (``TransformerNet`` keyword arguments) and ``styles`` (``None``: not known) would train."""
    _, config, info = verify_checkpoint(path)
    layout = ("width", "num_res_blocks", "upsample", "outer_kernel")
    differ = [
        f"{key}={model[key]!r} (checkpoint: {config[key]!r})"
        for key in layout
        if key in model and key in config and model[key] != config[key]
    ]
    if differ:
        raise CheckpointError(
            f"{path} was trained with another model: {', '.join(differ)}; "
            "drop the model= override or resume a checkpoint of this model"
        )
    if styles is not None and list(styles) != info.styles:
        raise CheckpointError(
            f"{path} was trained on styles {', '.join(info.styles)}, not {', '.join(styles)}; "
            "resume with the checkpoint's styles"
        )


def load_transformer(path: str | os.PathLike[str]) -> tuple[TransformerNet, ModelInfo]:
    """Rebuild the trained :class:`TransformerNet` (eval mode) and its :class:`ModelInfo`."""
    checkpoint, config, info = verify_checkpoint(path)
    net = TransformerNet(**config)
    net.load_state_dict(network_weights(checkpoint["state_dict"]))
    return net.eval(), info
