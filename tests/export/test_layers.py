"""The layer graphs in ``tiling/`` beside an exported model run it layer by layer on ONNX Runtime."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from stylenet.contract import (
    FORMAT_KEY,
    LAYERS_KEY,
    LayerSpec,
    layer_plan_json,
    parse_layer_plan,
    parse_layers_reference,
)
from stylenet.errors import ConfigError, ModelFileError
from stylenet.export.onnx import export_onnx, to_onnx_model
from stylenet.nn.checkpoint import ModelInfo
from stylenet.nn.layer_plan import TorchLayers, layer_plan
from stylenet.serve.layerwise import stylize_layerwise
from stylenet.serve.runtime import OnnxLayers, OnnxStylizer
from stylenet.serve.shared_statistics import resolve_mode
from tests.export.conftest import STYLES, tiny_net


def metadata(path: Path) -> dict[str, str]:
    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


def photo(height: int, width: int, batch: int = 1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((batch, 3, height, width)) * 255).astype(np.float32)


def test_the_export_writes_the_layer_graphs_in_the_tiling_folder(single) -> None:
    _, path = single
    props = metadata(path)
    name, _ = parse_layers_reference(props[LAYERS_KEY])
    assert props[FORMAT_KEY] == "4" and name == "tiling/starry.layers.onnx"
    graph = onnx.load(str(path.parent / name)).graph
    assert not {t.name for t in graph.initializer} & {i.name for i in graph.input}  # no defaults
    layers = OnnxLayers.from_reference(path, props[LAYERS_KEY], ["starry"])
    assert len(layers.plan) == len(layer_plan(single[0]))
    assert [s.add_input_of for s in layers.plan].count(None) == len(layers.plan) - 1


@pytest.mark.parametrize("tile", [8, 45, 1000])
def test_onnx_layer_by_layer_equals_the_single_pass(single, tile: int) -> None:
    net, path = single
    pixels = photo(67, 90, batch=2).astype(np.uint8)  # uint8 in, as the pipeline feeds it
    with torch.inference_mode():
        expected = net(torch.from_numpy(pixels.astype(np.float32))).numpy()
    stylizer = OnnxStylizer(path, providers=["CPUExecutionProvider"])
    rows = list(stylizer.layerwise_rows(pixels, tile=tile))
    got = np.concatenate([piece for _, piece in rows], axis=2)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=0.05)


def test_multi_style_blends_layer_by_layer(multi) -> None:
    net, path = multi
    image = photo(50, 61, batch=2, seed=3)
    weights = np.array([[0.2, 0.5, 0.3], [0.0, 0.0, 1.0]], dtype=np.float32)
    with torch.inference_mode():
        expected = net(torch.from_numpy(image), torch.from_numpy(weights)).numpy()
    stylizer = OnnxStylizer(path, providers=["CPUExecutionProvider"])
    got = np.concatenate([p for _, p in stylizer.layerwise_rows(image, weights, tile=16)], axis=2)
    np.testing.assert_allclose(got, expected, rtol=0, atol=0.05)
    # the same rows as PyTorch's layer-by-layer run
    torch_rows = stylize_layerwise(TorchLayers(net), image, weights, tile=16)
    np.testing.assert_allclose(got, torch_rows, rtol=0, atol=0.05)


@pytest.mark.slow
@pytest.mark.parametrize(
    "options", [{"upsample": "bilinear", "outer_kernel": 5}, {"norm": "batch"}]
)
def test_other_layer_kinds_export_and_match(tmp_path: Path, options: dict) -> None:
    torch.manual_seed(4)
    net = tiny_net(**options)
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.add_(0.1 * torch.randn_like(parameter))
        for buffer in net.buffers():
            if buffer.dtype.is_floating_point:
                buffer.add_(0.1 * torch.rand_like(buffer))
    path = export_onnx(net, ModelInfo(["x"]), tmp_path / "x.onnx")
    image = photo(41, 37)
    with torch.inference_mode():
        expected = net(torch.from_numpy(image)).numpy()
    stylizer = OnnxStylizer(path, providers=["CPUExecutionProvider"])
    got = np.concatenate([p for _, p in stylizer.layerwise_rows(image, tile=12)], axis=2)
    np.testing.assert_allclose(got, expected, rtol=0, atol=0.05)


def test_a_changed_or_missing_layer_file_is_refused(single, tmp_path: Path, caplog) -> None:
    _, path = single
    copy = tmp_path / "starry.onnx"
    shutil.copy(path, copy)
    image = photo(40, 40)
    alone = OnnxStylizer(copy)
    with pytest.raises(ModelFileError, match=r"tiling/starry\.layers\.onnx, which is not in"):
        list(alone.layerwise_rows(image, tile=16))
    with caplog.at_level(logging.WARNING):
        assert resolve_mode(alone, "auto") == "calibrated"  # auto falls back, and says so
    assert "tiling/starry.layers.onnx, which is not in" in caplog.text
    layers = tmp_path / "tiling" / "starry.layers.onnx"
    layers.parent.mkdir()
    layers.write_bytes((path.parent / "tiling" / layers.name).read_bytes() + b"\0")
    with pytest.raises(ModelFileError, match="sha256 differs"):
        list(OnnxStylizer(copy).layerwise_rows(image, tile=16))
    assert OnnxStylizer(copy).has_layers  # present but changed: refused, not skipped


def test_a_format_2_model_gets_a_one_line_error(single, tmp_path: Path) -> None:
    net, _ = single
    path = tmp_path / "old.onnx"
    model = to_onnx_model(net, ModelInfo(["starry"]))  # no layer graphs named
    for prop in model.metadata_props:
        if prop.key == FORMAT_KEY:
            prop.value = "2"
    onnx.save_model(model, str(path))
    stylizer = OnnxStylizer(path)
    assert not stylizer.has_layers
    with pytest.raises(ConfigError, match="has no layer graphs"):
        stylizer.layers()


def test_layer_graphs_of_another_model_are_refused(single) -> None:
    with pytest.raises(ModelFileError, match="belongs to another model"):
        OnnxLayers(single[1].parent / "tiling" / "starry.layers.onnx", styles=list(STYLES))


def test_layer_plans_round_trip_and_bad_ones_are_refused() -> None:
    plan = layer_plan(tiny_net())
    assert parse_layer_plan(layer_plan_json(plan)) == plan
    bad = [
        "{",
        "[]",
        json.dumps([{"in_channels": 3}]),
        json.dumps([{"in_channels": 3, "out_channels": 3, "kernel": 2}]),
        json.dumps([{"in_channels": 3, "out_channels": 3, "kernel": 3, "norm": "magic"}]),
        json.dumps([{"in_channels": 3, "out_channels": 3, "kernel": 3, "add_input_of": 0}]),
        json.dumps([{"in_channels": 3, "out_channels": 3, "kernel": 3, "eps": "x"}]),
        json.dumps([{"in_channels": 3, "out_channels": 3, "kernel": 3, "bogus": 1}]),
        layer_plan_json([LayerSpec(3, 8, 3), LayerSpec(4, 3, 3)]),
    ]
    for text in bad:
        with pytest.raises(ValueError):
            parse_layer_plan(text)
    digest = "0" * 64
    for file in ("../x.onnx", "other/x.onnx", "tiling/../x.onnx", "tiling/a/x.onnx", "/x.onnx"):
        with pytest.raises(ValueError):
            parse_layers_reference(json.dumps({"file": file, "sha256": digest}))
    with pytest.raises(ValueError):
        parse_layers_reference('{"file": "x.onnx"}')
    for file in ("x.onnx", "tiling/x.layers.onnx"):  # formats 3 and 4
        assert parse_layers_reference(json.dumps({"file": file, "sha256": digest}))[0] == file
