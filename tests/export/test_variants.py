from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from stylenet.data.digest import file_sha256 as sha256
from stylenet.errors import ConfigError
from stylenet.export.bundle import TOLERANCES, export_bundle
from stylenet.export.calibration import ImageCalibrationReader
from stylenet.export.variants import check_variants, variant_path
from stylenet.nn.checkpoint import ModelInfo
from stylenet.serve.runtime import OnnxStylizer
from tests.helpers.networks import FACTS, tiny_net


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory):
    torch.manual_seed(0)
    net = tiny_net()
    target = tmp_path_factory.mktemp("bundle") / "starry.onnx"
    files = export_bundle(
        net, ModelInfo(["starry"], dict(FACTS)), target, ["int8", "fp16"], num_calibration=4
    )
    return net, target, files


def test_every_variant_is_written_with_a_card(bundle) -> None:
    _, target, files = bundle
    assert [f.variant for f in files] == ["fp32", "int8", "fp16"]
    names = sorted(p.name for p in target.parent.iterdir())
    assert names == [
        "starry.fp16.json",
        "starry.fp16.onnx",
        "starry.int8.json",
        "starry.int8.onnx",
        "starry.json",
        "starry.onnx",
        "tiling",
    ]
    assert sorted(p.name for p in (target.parent / "tiling").iterdir()) == [
        "starry.fp16.statistics.onnx",
        "starry.int8.statistics.onnx",
        "starry.layers.onnx",
        "starry.statistics.onnx",
    ]
    for file in files:
        card = json.loads(file.card.read_text())
        assert card["variant"] == file.variant and card["styles"] == ["starry"]
        assert card["facts"] == FACTS and card["opset"] == 18
        assert card["sha256"] == sha256(file.path)
        assert card["file_size"] == file.path.stat().st_size
        assert card["contract"]["inputs"][0]["name"] == "image"
        assert card["parity"]["max_abs_diff"] <= TOLERANCES[file.variant]
        assert card["parity"]["mean_abs_diff"] <= card["parity"]["max_abs_diff"]


def test_int8_variant_runs_with_the_right_shape_and_metadata(bundle) -> None:
    _, target, _ = bundle
    path = variant_path(target, "int8")
    model = onnx.load(str(path))
    assert any(node.op_type == "QuantizeLinear" for node in model.graph.node)
    stylizer = OnnxStylizer(path)
    assert stylizer.styles == ["starry"]
    out = stylizer((torch.rand(3, 3, 37, 51) * 255).numpy())
    assert out.shape == (3, 3, 37, 51) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 255


def test_fp16_variant_keeps_float32_io(bundle) -> None:
    _, target, _ = bundle
    model = onnx.load(str(variant_path(target, "fp16")))
    elem = onnx.TensorProto.FLOAT
    assert model.graph.input[0].type.tensor_type.elem_type == elem
    assert model.graph.output[0].type.tensor_type.elem_type == elem
    assert any(t.data_type == onnx.TensorProto.FLOAT16 for t in model.graph.initializer)


def test_calibration_reader_reads_a_folder(image_folder: Path) -> None:
    reader = ImageCalibrationReader(image_folder, count=4, num_styles=3, multi_style=True)
    feeds = list(reader)
    assert len(feeds) == len(reader) == 4
    assert feeds[0]["image"].shape == (1, 3, 256, 256) and feeds[0]["image"].max() > 1
    assert [int(np.argmax(f["style_weights"])) for f in feeds] == [0, 1, 2, 0]
    reader.rewind()
    assert reader.get_next() is not None


def test_calibration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        ImageCalibrationReader(tmp_path / "missing", 4)
    with pytest.raises(ConfigError, match="no images"):
        ImageCalibrationReader(tmp_path, 4)
    with pytest.raises(ConfigError, match="num_calibration"):
        ImageCalibrationReader(None, 0)


def test_variant_names() -> None:
    assert check_variants(["int8", "fp32", "int8"]) == ["fp32", "int8"]
    with pytest.raises(ConfigError, match="unknown variant"):
        check_variants(["int4"])
    assert variant_path(Path("a/m.onnx"), "fp16") == Path("a/m.fp16.onnx")


def test_out_must_be_an_onnx_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\.onnx"):
        export_bundle(tiny_net(), ModelInfo(["x"]), tmp_path / "model.pt")


def test_variants_tile_layer_by_layer_with_the_fp32_layer_graphs(bundle) -> None:
    _, target, files = bundle
    image = np.random.default_rng(0).integers(0, 256, (1, 3, 40, 52), dtype=np.uint8)
    fp32 = OnnxStylizer(target)
    expected = np.concatenate([r for _, r in fp32.layerwise_rows(image, tile=16)], axis=2)
    for file in files:
        stylizer = OnnxStylizer(file.path)
        got = np.concatenate([r for _, r in stylizer.layerwise_rows(image, tile=16)], axis=2)
        np.testing.assert_array_equal(got, expected)


def test_each_variant_shares_statistics_with_its_own_statistics_graph(bundle) -> None:
    _, _, files = bundle
    rng = np.random.default_rng(1)
    image = (rng.random((2, 3, 40, 52)) * 255).astype(np.float32)
    for file in files:
        stylizer = OnnxStylizer(file.path)
        assert stylizer.statistics_channels
        own = stylizer.statistics(image)
        nan = np.full_like(own[:1], np.nan)
        # the model is its statistics graph with NaN statistics: the same pixels
        np.testing.assert_array_equal(stylizer(image, statistics=nan), stylizer(image))
        shared = stylizer(image, statistics=own[:1])
        assert np.abs(shared - stylizer(image)).max() > 0.1  # the statistics are used
