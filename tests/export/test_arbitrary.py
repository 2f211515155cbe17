"""Exporting the arbitrary-style autoencoder: two graphs, dynamic sizes, parity, metadata."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from stylenet.arbitrary_contract import CONFIG_KEY, KIND, KIND_KEY
from stylenet.export.arbitrary import export_autoencoder
from stylenet.nn.autoencoder import AutoencoderConfig, StyleAutoencoder


@pytest.mark.slow
def test_export_matches_pytorch_at_other_sizes_and_batches(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = StyleAutoencoder(AutoencoderConfig(widths=(4, 8, 8, 16))).eval()
    parity = export_autoencoder(net, tmp_path, facts={"steps": 3})
    assert parity < 0.05
    cpu = ["CPUExecutionProvider"]
    encoder = ort.InferenceSession(str(tmp_path / "encoder.onnx"), providers=cpu)
    decoder = ort.InferenceSession(str(tmp_path / "decoder.onnx"), providers=cpu)
    images = torch.rand(3, 3, 40, 72) * 255  # not the export's example size or batch
    with torch.no_grad():
        features = net.encoder(images)
        expected = net.tail(net.head(features))
    got_features = encoder.run(None, {"image": images.numpy()})[0]
    got = decoder.run(None, {"features": got_features})[0]
    assert got_features.shape == (3, 16, 5, 9)
    np.testing.assert_allclose(got, expected.numpy(), atol=0.05)


def test_export_writes_metadata_and_a_card(tmp_path: Path) -> None:
    net = StyleAutoencoder(AutoencoderConfig(widths=(4, 8, 8, 16)))
    export_autoencoder(net, tmp_path, facts={"steps": 3})
    for name in ("encoder.onnx", "decoder.onnx"):
        props = {p.key: p.value for p in onnx.load(tmp_path / name).metadata_props}
        assert props[KIND_KEY] == KIND
        assert json.loads(props[CONFIG_KEY]) == {"widths": [4, 8, 8, 16]}
    card = json.loads((tmp_path / "card.json").read_text())
    assert card["facts"]["steps"] == 3 and card["facts"]["parity_max_abs_diff"] < 0.05
    assert not list(tmp_path.glob("*.partial*"))
