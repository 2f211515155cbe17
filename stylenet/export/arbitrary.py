"""Export the arbitrary-style autoencoder as two ONNX graphs with a parity check.

The model folder (``exported/arbitrary/``) holds
- ``encoder.onnx``: input ``image`` float32 ``N×3×H×W`` RGB in [0, 255] (``H, W`` multiples of
  8, dynamic), output ``features`` float32 ``N×C×H/8×W/8``;
- ``decoder.onnx``: input ``features``, output ``stylized`` float32 ``N×3×H×W`` in [0, 255];
- ``card.json``: the model card (how it was trained).
Both graphs carry ``stylenet.kind = "arbitrary"``, ``stylenet.format_version`` and
``stylenet.autoencoder`` (the network config, JSON) as metadata. The transform between them
(WCT or AdaIN, :mod:`stylenet.serve.wct`) runs in NumPy: ONNX has no eigendecomposition op.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch

from stylenet.arbitrary_contract import (
    CARD_FILE,
    DECODER_FILE,
    ENCODER_FILE,
    FEATURES,
    FORMAT_VERSION,
    IMAGE,
    KIND,
    STYLIZED,
)
from stylenet.contract import OPSET
from stylenet.data.atomic import atomic_path
from stylenet.export.onnx import quiet, save_model
from stylenet.nn.autoencoder import StyleAutoencoder


def _save(
    model: torch.nn.Module,
    example: torch.Tensor,
    path: Path,
    *,
    names: tuple[str, str],
    meta: dict[str, str],
) -> None:
    """Export ``model`` (one input, one output, dynamic N/H/W) with ``meta``, checked, atomically."""
    dims = {0: "N", 2: "H", 3: "W"}
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch, torch.no_grad(), quiet():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter's notice
        raw = Path(scratch) / "raw.onnx"
        # the TorchScript exporter: its Resize/Pad arithmetic stays symbolic in H and W
        torch.onnx.export(
            model,
            (example,),
            raw,
            input_names=[names[0]],
            output_names=[names[1]],
            dynamic_axes={names[0]: dims, names[1]: dims},
            opset_version=OPSET,
            dynamo=False,
        )
        proto = onnx.load(raw)
    proto.producer_name = "stylenet"
    onnx.helper.set_model_props(proto, meta)
    onnx.checker.check_model(proto, full_check=True)
    save_model(proto, path)


class _Decoder(torch.nn.Module):
    def __init__(self, net: StyleAutoencoder) -> None:
        super().__init__()
        self.head, self.tail = net.head, net.tail

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.tail(self.head(features))


def export_autoencoder(
    net: StyleAutoencoder, folder: str | os.PathLike[str], *, facts: dict[str, Any]
) -> float:
    """Write ``encoder.onnx``, ``decoder.onnx`` and ``card.json`` into ``folder``; returns the
    max |ONNX − PyTorch| of a reconstruction on 0–255 (a random 64×96 picture)."""
    import onnxruntime as ort

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    net = net.eval().float()
    meta = {
        "stylenet.kind": KIND,
        "stylenet.format_version": str(FORMAT_VERSION),
        "stylenet.autoencoder": json.dumps(net.config.to_dict()),
    }
    example = torch.rand(1, 3, 64, 96) * 255
    with torch.no_grad():
        features = net.encoder(example)
        expected = _Decoder(net)(features)
    _save(net.encoder, example, out / ENCODER_FILE, names=(IMAGE, FEATURES), meta=meta)
    _save(_Decoder(net), features, out / DECODER_FILE, names=(FEATURES, STYLIZED), meta=meta)
    cpu = ["CPUExecutionProvider"]
    enc = ort.InferenceSession(str(out / ENCODER_FILE), providers=cpu)
    dec = ort.InferenceSession(str(out / DECODER_FILE), providers=cpu)
    got = dec.run(None, {FEATURES: enc.run(None, {IMAGE: example.numpy()})[0]})[0]
    parity = float(np.abs(got - expected.numpy()).max())
    card = {"kind": KIND, "format_version": FORMAT_VERSION, "autoencoder": net.config.to_dict()}
    card["facts"] = {**facts, "parity_max_abs_diff": parity}
    with atomic_path(out / CARD_FILE) as tmp:
        Path(tmp).write_text(json.dumps(card, indent=2) + "\n")
    return parity
