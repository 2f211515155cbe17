from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from stylenet.errors import ModelFileError
from stylenet.export.contract import FORMAT_VERSION, OPSET, STYLES_KEY
from stylenet.export.onnx import FP32_TOLERANCE, export_onnx, verify_parity
from stylenet.nn.checkpoint import ModelInfo
from stylenet.serve.runtime import OnnxStylizer
from tests.helpers.networks import FACTS, STYLES, tiny_net


def test_parity_at_odd_sizes_and_batch_3(single) -> None:
    net, path = single
    worst = verify_parity(net, path, sizes=[(33, 47), (61, 35), (32, 32)], batches=[1, 3])
    assert worst < FP32_TOLERANCE


def test_graph_contract_dynamic_dims_and_pinned_opset(single) -> None:
    _, path = single
    model = onnx.load(str(path))
    assert [i.name for i in model.graph.input] == ["image", "statistics"]
    assert [o.name for o in model.graph.output] == ["stylized", "observed_statistics"]
    for value in (model.graph.input[0], model.graph.output[0]):
        dims = value.type.tensor_type.shape.dim
        assert [d.dim_param or d.dim_value for d in dims] == ["N", 3, "H", "W"]
    assert {o.domain: o.version for o in model.opset_import}[""] == OPSET
    assert all(not node.metadata_props for node in model.graph.node)  # no source paths


def test_metadata_round_trip(single) -> None:
    _, path = single
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(props[STYLES_KEY]) == ["starry"]
    assert props["stylenet.format_version"] == str(FORMAT_VERSION)
    assert json.loads(props["stylenet.model"])["width"] == 0.125
    stylizer = OnnxStylizer(path)
    assert stylizer.styles == ["starry"]
    assert stylizer.facts == FACTS


def test_multi_style_blend_parity(multi) -> None:
    net, path = multi
    assert verify_parity(net, path, sizes=[(45, 39)], batches=[3]) < FP32_TOLERANCE
    stylizer = OnnxStylizer(path)
    assert stylizer.styles == STYLES
    image = torch.rand(2, 3, 35, 41) * 255
    blend = torch.tensor([[0.2, 0.5, 0.3], [0.0, 0.75, 0.25]])
    with torch.inference_mode():
        expected = net(image, blend)
    got = torch.from_numpy(stylizer(image.numpy(), blend.numpy()))
    assert (got - expected).abs().max() < FP32_TOLERANCE
    one_hot = stylizer(image.numpy(), np.array([[0.0, 1.0, 0.0]], np.float32))  # one row
    assert not np.allclose(one_hot, got.numpy(), atol=1.0)


def test_style_names_must_match_the_network(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="one name per style"):
        export_onnx(tiny_net(), ModelInfo(["a", "b"]), tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_parity_failure_is_a_model_file_error(single) -> None:
    _, path = single
    torch.manual_seed(123)
    other = tiny_net()  # different random weights
    with pytest.raises(ModelFileError, match="differs from PyTorch"):
        verify_parity(other, path, sizes=[(32, 32)], batches=[1])


def test_two_stages_match_pytorch(multi) -> None:
    net, path = multi
    stylizer = OnnxStylizer(path)
    thumb = torch.rand(1, 3, 48, 64) * 255
    tiles = torch.rand(3, 3, 40, 36) * 255
    blend = torch.tensor([[0.2, 0.5, 0.3]])
    with torch.inference_mode():
        _, expected_stats = net.forward_statistics(thumb, blend)
        expected = net(tiles, blend.expand(3, 3), statistics=expected_stats)
    stats = stylizer.statistics(thumb.numpy(), blend.numpy())  # stage 1
    assert stats.shape == tuple(expected_stats.shape)
    assert np.abs(stats - expected_stats.numpy()).max() < 1e-3
    out = stylizer(tiles.numpy(), blend.numpy(), statistics=stats)  # stage 2: one row
    assert np.abs(out - expected.numpy()).max() < FP32_TOLERANCE
    assert np.abs(out - stylizer(tiles.numpy(), blend.numpy())).max() > 1.0  # it is used


def test_an_app_that_ignores_statistics_gets_format_1_behaviour(single) -> None:
    import onnxruntime as ort

    net, path = single
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    image = torch.rand(2, 3, 33, 47) * 255
    (out,) = session.run(["stylized"], {"image": image.numpy()})
    with torch.inference_mode():
        expected = net(image)
    assert (torch.from_numpy(out) - expected).abs().max() < FP32_TOLERANCE
