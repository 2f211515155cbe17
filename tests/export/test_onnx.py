from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from stylenet.contract import FORMAT_KEY, FORMAT_VERSION, OPSET, STYLES_KEY
from stylenet.errors import ModelFileError
from stylenet.export.onnx import FP32_TOLERANCE, export_onnx, verify_parity
from stylenet.nn.checkpoint import ModelInfo
from stylenet.serve.runtime import OnnxStylizer
from tests.helpers.networks import FACTS, STYLES, tiny_net
from tests.helpers.quiet_load import load_stderr


def test_parity_at_odd_sizes_and_batch_3(single) -> None:
    net, path = single
    worst = verify_parity(net, path, sizes=[(33, 47), (61, 35), (32, 32)], batches=[1, 3])
    assert worst < FP32_TOLERANCE


def test_graph_contract_dynamic_dims_and_pinned_opset(single, multi) -> None:
    for (_, path), styled in ((single, ["image"]), (multi, ["image", "style_weights"])):
        model = onnx.load(str(path))
        assert [i.name for i in model.graph.input] == styled  # nothing but the app's inputs
        assert [o.name for o in model.graph.output] == ["stylized"]
        assert not {t.name for t in model.graph.initializer} & set(styled)
        for value in (model.graph.input[0], model.graph.output[0]):
            dims = value.type.tensor_type.shape.dim
            assert [d.dim_param or d.dim_value for d in dims] == ["N", 3, "H", "W"]
        assert {o.domain: o.version for o in model.opset_import}[""] == OPSET
        assert all(not node.metadata_props for node in model.graph.node)  # no source paths
        assert not {"IsNaN", "Where"} & {node.op_type for node in model.graph.node}
        statistics = onnx.load(str(path.parent / "tiling" / f"{path.stem}.statistics.onnx"))
        inputs = [i.name for i in statistics.graph.input]
        assert inputs == [*styled, "statistics"]
        assert not {t.name for t in statistics.graph.initializer} & set(inputs)
        outputs = [o.name for o in statistics.graph.output]
        assert outputs == ["stylized", "observed_statistics"]


def test_loading_writes_nothing_to_stderr(single, multi) -> None:
    out, err = load_stderr([single[1], multi[1]])  # the model and both tiling graphs
    assert out.strip() == "loaded 2" and err == ""


def test_the_model_is_its_statistics_graph_with_nan_statistics(multi) -> None:
    import onnxruntime as ort

    _, path = multi
    rng = np.random.default_rng(2)
    feed = {
        "image": (rng.random((2, 3, 45, 38)) * 255).astype(np.float32),
        "style_weights": np.array([[0.2, 0.5, 0.3], [0, 1, 0]], np.float32),
    }
    model = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    graph = ort.InferenceSession(
        str(path.parent / "tiling" / "trio.statistics.onnx"), providers=["CPUExecutionProvider"]
    )
    (plain,) = model.run(["stylized"], feed)
    statistics = np.full((1, 2 * sum(tiny_channels(multi[0]))), np.nan, np.float32)
    (two_stage,) = graph.run(["stylized"], {**feed, "statistics": statistics})
    np.testing.assert_array_equal(plain, two_stage)


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


def tiny_channels(net) -> list[int]:
    return net.statistics_channels()


def test_an_app_feeds_only_the_image(single) -> None:
    import onnxruntime as ort

    net, path = single
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    image = torch.rand(2, 3, 33, 47) * 255
    (out,) = session.run(["stylized"], {"image": image.numpy()})
    with torch.inference_mode():
        expected = net(image)
    assert (torch.from_numpy(out) - expected).abs().max() < FP32_TOLERANCE


def test_a_missing_or_changed_statistics_graph(single, tmp_path: Path, caplog) -> None:
    _, path = single
    copy = tmp_path / "starry.onnx"
    shutil.copy(path, copy)
    alone = OnnxStylizer(copy)  # loads: the model needs no tiling graph
    image = (np.random.default_rng(0).random((1, 3, 40, 40)) * 255).astype(np.float32)
    assert alone(image).shape == image.shape
    with caplog.at_level(logging.WARNING):
        assert alone.statistics_channels is None  # tiles then use their own statistics
    assert "tiling/starry.statistics.onnx, which is not in" in caplog.text
    graph = tmp_path / "tiling" / "starry.statistics.onnx"
    graph.parent.mkdir()
    graph.write_bytes((path.parent / "tiling" / graph.name).read_bytes() + b"\0")
    changed = OnnxStylizer(copy)
    assert changed.statistics_channels  # present: refused when used, not skipped
    with pytest.raises(ModelFileError, match="sha256 differs"):
        changed.statistics(image)


def test_a_format_2_model_shares_statistics_through_its_own_graph(single, tmp_path: Path) -> None:
    net, path = single
    model = onnx.load(str(path.parent / "tiling" / "starry.statistics.onnx"))
    size = 2 * sum(net.statistics_channels())
    default = np.full((1, size), np.nan, np.float32)  # format 2: the input had a default
    model.graph.initializer.append(onnx.numpy_helper.from_array(default, "statistics"))
    for prop in model.metadata_props:
        if prop.key == FORMAT_KEY:
            prop.value = "2"
    onnx.save_model(model, str(tmp_path / "old.onnx"))
    old, new = OnnxStylizer(tmp_path / "old.onnx"), OnnxStylizer(path)
    assert old.statistics_channels == new.statistics_channels == net.statistics_channels()
    image = (np.random.default_rng(1).random((2, 3, 36, 44)) * 255).astype(np.float32)
    stats = new.statistics(image)
    np.testing.assert_array_equal(old.statistics(image), stats)
    np.testing.assert_array_equal(
        old(image, statistics=stats[:1]), new(image, statistics=stats[:1])
    )
    np.testing.assert_array_equal(old(image), new(image))
