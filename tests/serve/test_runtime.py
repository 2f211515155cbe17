from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from stylenet.errors import ConfigError, ImageError, ModelFileError
from stylenet.serve.loader import load_stylizer
from stylenet.serve.runtime import OnnxStylizer, choose_providers

STYLES = ["a", "b", "c"]
OFFSETS = [0.0, 10.0, 20.0]  # style k adds OFFSETS[k] to every pixel
RNG = np.random.default_rng(0)


def contract_model(
    path: Path,
    styles: list[str] | None = STYLES,
    inputs: tuple[str, str] = ("image", "style_weights"),
    output: str = "stylized",
    version: str = "1",
) -> Path:
    """A stand-in stylenet model: ``stylized = image + style_weights @ OFFSETS`` per image."""
    image, weights = inputs
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", [weights, "offsets"], ["shift"]),
            helper.make_node("Unsqueeze", ["shift", "axes"], ["shift4"]),
            helper.make_node("Add", [image, "shift4"], [output]),
        ],
        "stand_in",
        [
            helper.make_tensor_value_info(image, TensorProto.FLOAT, ["N", 3, "H", "W"]),
            helper.make_tensor_value_info(weights, TensorProto.FLOAT, ["N", 3]),
        ],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, ["N", 3, "H", "W"])],
        initializer=[
            helper.make_tensor("offsets", TensorProto.FLOAT, [3, 1], OFFSETS),
            helper.make_tensor("axes", TensorProto.INT64, [2], [2, 3]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    props = {"stylenet.format_version": version, "stylenet.fact.steps": "7"}
    if styles is not None:
        props["stylenet.styles"] = json.dumps(styles)
    helper.set_model_props(model, props)
    onnx.save(model, str(path))
    return path


@pytest.fixture
def model_path(tmp_path: Path) -> Path:
    return contract_model(tmp_path / "trio.onnx")


def test_runs_batches_and_returns_float32_arrays(model_path: Path) -> None:
    stylizer = OnnxStylizer(model_path, intra_op_threads=1)
    assert stylizer.styles == STYLES and stylizer.facts == {"steps": 7}
    images = RNG.random((3, 3, 33, 47), dtype=np.float32) * 255
    blend = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0.5, 0.5]], dtype=np.float32)
    out = stylizer(images, blend)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == images.shape
    shifts = (out - images).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(shifts, [0.0, 10.0, 15.0], atol=1e-4)


def test_no_weights_means_the_first_style_and_one_row_broadcasts(model_path: Path) -> None:
    stylizer = OnnxStylizer(model_path)
    images = RNG.random((2, 3, 32, 32), dtype=np.float32) * 255
    np.testing.assert_allclose(stylizer(images), images)
    out = stylizer(images, np.array([0.0, 0.0, 1.0], dtype=np.float32))
    np.testing.assert_allclose(out, images + 20.0, rtol=1e-6)


def test_inputs_are_not_modified(model_path: Path) -> None:
    images = RNG.random((1, 3, 40, 40)) * 255  # float64: converted, not written to
    before = images.copy()
    OnnxStylizer(model_path)(images)
    np.testing.assert_array_equal(images, before)


def test_bad_inputs(model_path: Path) -> None:
    stylizer = OnnxStylizer(model_path)
    with pytest.raises(ImageError, match="too small"):
        stylizer(np.zeros((1, 3, 20, 40), np.float32))
    with pytest.raises(ImageError, match="N×3×H×W"):
        stylizer(np.zeros((3, 40, 40), np.float32))
    with pytest.raises(ConfigError, match="one weight per style"):
        stylizer(np.zeros((2, 3, 40, 40), np.float32), np.ones((2, 2), np.float32))


def test_providers_and_logging(model_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert choose_providers()[-1] == "CPUExecutionProvider"
    with caplog.at_level(logging.INFO, logger="stylenet.serve.runtime"):
        stylizer = OnnxStylizer(model_path, providers=["CPUExecutionProvider"])
    assert stylizer.provider == "CPUExecutionProvider"
    assert "CPUExecutionProvider" in caplog.text
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        with pytest.raises(ConfigError, match="not available"):
            OnnxStylizer(model_path, providers=["CUDAExecutionProvider"])
    with pytest.raises(ConfigError, match="optimization"):
        OnnxStylizer(model_path, optimization="max")


def test_loader_opens_onnx_files(model_path: Path) -> None:
    assert isinstance(load_stylizer(model_path), OnnxStylizer)


def test_missing_empty_and_corrupt_files(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not found"):
        OnnxStylizer(tmp_path / "missing.onnx")
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(ModelFileError, match="empty"):
        OnnxStylizer(empty)
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(np.random.default_rng(0).bytes(2048))
    with pytest.raises(ModelFileError, match="cannot load") as info:
        OnnxStylizer(corrupt)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"inputs": ("x", "style_weights")}, "inputs"),
        ({"output": "y"}, "outputs"),
        ({"styles": None}, "no stylenet.styles metadata"),
        ({"styles": []}, "non-empty JSON list"),
        ({"version": "99"}, "upgrade stylenet"),
    ],
)
def test_contract_breaking_files(tmp_path: Path, kwargs: dict, message: str) -> None:
    path = contract_model(tmp_path / "bad.onnx", **kwargs)
    with pytest.raises(ModelFileError, match=message):
        OnnxStylizer(path)


def test_output_size_contract_is_checked_at_load(tmp_path: Path) -> None:
    # A one-style model whose output is half the input's size: refused when opened.
    graph = helper.make_graph(
        [helper.make_node("MaxPool", ["image"], ["stylized"], kernel_shape=[2, 2], strides=[2, 2])],
        "halves",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("stylized", TensorProto.FLOAT, ["N", 3, "h", "w"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    helper.set_model_props(model, {"stylenet.format_version": "1", "stylenet.styles": '["a"]'})
    path = tmp_path / "halves.onnx"
    onnx.save(model, str(path))
    with pytest.raises(ModelFileError, match="breaks the model contract") as info:
        OnnxStylizer(path)
    assert "\n" not in str(info.value)
