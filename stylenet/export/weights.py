"""Read the network of an exported fp32 ONNX model back into PyTorch.

The exporter keeps the network's weights as initializers named like the checkpoint's
(``net.encoder.0.conv.weight``, …), and the model card keeps the network config, the style
names and the checkpoint's weights checksum (``weights_sha256``). So an exported model is a
checkpoint too, checked as strictly: the shipped ``exported/multi_style.onnx`` is the backbone
a new style trains on (``experiment=new_style``) in an install that has no training checkpoints.
"""

from __future__ import annotations

import os
from pathlib import Path

import onnx
import torch
from onnx import numpy_helper

from stylenet.errors import ModelFileError
from stylenet.model_card import ModelCard, card_path
from stylenet.nn.checkpoint import (
    CHECKSUM_FACT,
    NET_PREFIX,
    ModelInfo,
    check_network,
    model_config,
    weights_checksum,
)
from stylenet.nn.transformer import TransformerNet


def exported_weights(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """The ``net.*`` initializers of the ONNX file at ``path``, prefix removed."""
    try:
        model = onnx.load(str(path), load_external_data=False)
    except (OSError, ValueError) as error:
        raise ModelFileError(
            f"cannot read the ONNX model {path} ({type(error).__name__})"
        ) from error
    except Exception as error:  # protobuf's DecodeError: not an ONNX file
        raise ModelFileError(f"{path} is not an ONNX model ({type(error).__name__})") from error
    return {
        tensor.name[len(NET_PREFIX) :]: torch.from_numpy(numpy_helper.to_array(tensor).copy())
        for tensor in model.graph.initializer
        if tensor.name.startswith(NET_PREFIX)
    }


def load_exported_transformer(path: str | os.PathLike[str]) -> tuple[TransformerNet, ModelInfo]:
    """Rebuild the :class:`TransformerNet` (eval mode) of the fp32 ONNX export at ``path`` and
    its :class:`ModelInfo` from the model card beside it; the weights must match the card's
    config and ``weights_sha256``, else :class:`ModelFileError`."""
    file = Path(path)
    if not file.is_file():
        raise ModelFileError(f"exported model not found: {file}")
    card = ModelCard.read(card_path(file))
    if card.variant != "fp32":
        raise ModelFileError(
            f"{file.name} is the {card.variant} export; its weights are not the trained ones: "
            "give the fp32 .onnx (or a .ckpt)"
        )
    stored = card.facts.get(CHECKSUM_FACT)
    if not stored:
        raise ModelFileError(f"the model card of {file.name} has no {CHECKSUM_FACT}; re-export it")
    weights = exported_weights(file)
    config = model_config({"model": card.model}, file)
    if config.get("norm") == "instance" and not any(".norm." in key for key in weights):
        raise ModelFileError(
            f"{file.name} holds its instance norms' (γ, β) folded into the graph, not as "
            "weights; give the model's training checkpoint (.ckpt) instead"
        )
    check_network(config, weights, file, styles=list(card.styles))
    if weights_checksum(weights) != stored:
        raise ModelFileError(
            f"the weights in {file.name} do not match its model card's {CHECKSUM_FACT} (the file "
            "was altered or is a layer graph); re-export it or give a .ckpt"
        )
    net = TransformerNet(**config)
    net.load_state_dict(weights)
    facts = dict(card.facts)
    facts.setdefault("global_step", card.steps)
    return net.eval(), ModelInfo(styles=list(card.styles), facts=facts)
