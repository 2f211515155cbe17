"""Move format-3 models to format 4 in place, without re-exporting: ``x.onnx`` becomes the
app-facing graph (``image`` → ``stylized``, no input defaults), and the graphs only tiled
inference uses go to ``tiling/``: ``tiling/x.statistics.onnx`` (the old graph, its
``statistics`` input no longer defaulted) and ``tiling/x.layers.onnx`` (the old layer graphs
without their window defaults). The model card follows.

    python scripts/split_tiling_graphs.py              # every format-3 model in exported/
    python scripts/split_tiling_graphs.py exported/wave.onnx

Each new file is checked against the old one on ONNX Runtime before anything is replaced: the
model and the statistics graph (NaN statistics) give the old model's exact pixels, the
statistics graph with given statistics the old graph's exact pixels and statistics, every
layer graph output the old one's exactly, and the network weights are the same. Prints one
line per model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

from stylenet.contract import (
    FORMAT_KEY,
    FORMAT_VERSION,
    LAYERS_KEY,
    OUTPUT,
    STATISTICS_GRAPH_KEY,
    STATISTICS_INPUT,
    STATISTICS_OUTPUT,
    STYLES_KEY,
    WEIGHTS_INPUT,
    io_contract,
    layer_conv,
    layer_scale,
    layer_shift,
    layer_window,
    layers_file_name,
    layers_reference,
    parse_layer_plan,
    parse_layers_reference,
    statistics_channels_from_metadata,
    statistics_file_name,
)
from stylenet.data.digest import file_sha256
from stylenet.export.onnx import plain_model, save_model
from stylenet.model_card import ModelCard, card_path
from stylenet.resources import shipped_models_dir


def props_of(model: onnx.ModelProto) -> dict[str, str]:
    return {p.key: p.value for p in model.metadata_props}


def set_props(model: onnx.ModelProto, props: dict[str, str]) -> None:
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, props)


def without_input_defaults(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of ``model`` without the initializers that double as graph inputs."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    inputs = {value.name for value in out.graph.input}
    kept = [tensor for tensor in out.graph.initializer if tensor.name not in inputs]
    del out.graph.initializer[:]
    out.graph.initializer.extend(kept)
    return out


def split(old: onnx.ModelProto, old_layers: onnx.ModelProto, model_name: str) -> dict:
    """The format-4 graphs of a format-3 model: ``{"statistics", "layers", "model"}`` with
    their file names relative to the model's folder (the references need the files' bytes,
    so the model is built by :func:`finish`)."""
    props = props_of(old)
    statistics = without_input_defaults(old)
    statistics_props = {k: v for k, v in props.items() if k != LAYERS_KEY}
    statistics_props[FORMAT_KEY] = str(FORMAT_VERSION)
    set_props(statistics, statistics_props)
    layers = without_input_defaults(old_layers)
    set_props(layers, {**props_of(old_layers), FORMAT_KEY: str(FORMAT_VERSION)})
    for graph in (statistics, layers):
        onnx.checker.check_model(graph, full_check=True)
    return {
        "statistics": (statistics_file_name(model_name), statistics),
        "layers": (layers_file_name(model_name), layers),
    }


def finish(
    statistics: onnx.ModelProto, props: dict[str, str], layers_ref: str, statistics_ref: str
) -> onnx.ModelProto:
    """The app-facing model: the statistics graph with NaN statistics, the old metadata
    (format 4, pointing at the tiling graphs)."""
    model = plain_model(statistics)
    new_props = {}
    for key, value in props.items():  # the old order; the statistics graph's file after layers
        new_props[key] = value
        if key == LAYERS_KEY:
            new_props[key] = layers_ref
            new_props[STATISTICS_GRAPH_KEY] = statistics_ref
    new_props[FORMAT_KEY] = str(FORMAT_VERSION)
    set_props(model, new_props)
    onnx.checker.check_model(model, full_check=True)
    return model


def session(model: onnx.ModelProto) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3  # the old graphs warn about their input defaults
    options.intra_op_num_threads = 2
    return ort.InferenceSession(
        model.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"]
    )


def test_feeds(props: dict[str, str], seed: int = 0) -> list[dict[str, np.ndarray]]:
    """Photo-sized and odd-sized images (and blends, for multi-style models)."""
    rng = np.random.default_rng(seed)
    count = len(json.loads(props[STYLES_KEY]))
    feeds = []
    for batch, height, width in ((1, 480, 640), (2, 61, 35)):
        x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
        y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
        smooth = np.stack([x * y, x * (1 - y), (1 - x) * y]) * 200  # 3×H×W gradients
        noise = rng.random((batch, 3, height, width), dtype=np.float32) * 55
        feed = {"image": (smooth[None] + noise).astype(np.float32)}
        if count > 1:
            feed[WEIGHTS_INPUT] = rng.dirichlet(np.ones(count), batch).astype(np.float32)
        feeds.append(feed)
    return feeds


def net_weights(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    return {
        t.name: numpy_helper.to_array(t)
        for t in model.graph.initializer
        if t.name.startswith("net.")
    }


def verify(
    old: onnx.ModelProto,
    old_layers: onnx.ModelProto,
    model: onnx.ModelProto,
    statistics: onnx.ModelProto,
    layers: onnx.ModelProto,
) -> int:
    """Raise ``AssertionError`` unless the new graphs give exactly the old outputs; returns
    the number of arrays compared."""
    props = props_of(old)
    size = 2 * sum(statistics_channels_from_metadata(props) or [])
    old_s, model_s, statistics_s = session(old), session(model), session(statistics)
    compared = 0
    for feed in test_feeds(props):
        (want,) = old_s.run([OUTPUT], feed)
        (got,) = model_s.run([OUTPUT], feed)
        nan = np.full((1, size), np.nan, np.float32)
        two_stage, observed = statistics_s.run(
            [OUTPUT, STATISTICS_OUTPUT], {**feed, STATISTICS_INPUT: nan}
        )
        want_observed = old_s.run([STATISTICS_OUTPUT], feed)[0]
        assert np.array_equal(got, want) and np.array_equal(two_stage, want)
        assert np.array_equal(observed, want_observed)
        given = {**feed, STATISTICS_INPUT: want_observed[:1] * 1.01}
        for name in (OUTPUT, STATISTICS_OUTPUT):
            assert np.array_equal(statistics_s.run([name], given)[0], old_s.run([name], given)[0])
        compared += 5
    assert net_weights(model).keys() == net_weights(old).keys()
    for name, value in net_weights(old).items():
        assert np.array_equal(net_weights(model)[name], value)
    compared += 1
    plan = parse_layer_plan(props_of(old_layers)["stylenet.layer_plan"])
    old_l, new_l = session(old_layers), session(layers)
    rng = np.random.default_rng(1)
    count = len(json.loads(props[STYLES_KEY]))
    weights = rng.dirichlet(np.ones(count), 2).astype(np.float32)
    idle = {
        layer_window(i): np.zeros((2, s.in_channels, s.kernel, s.kernel), np.float32)
        for i, s in enumerate(plan)
    }
    if any(i.name == WEIGHTS_INPUT for i in layers.graph.input):
        idle[WEIGHTS_INPUT] = weights
    for index, spec in enumerate(plan):
        window = rng.standard_normal((2, spec.in_channels, 19, 23), dtype=np.float32)
        names = [layer_conv(index)]
        if spec.norm is not None:
            names += [layer_scale(index), layer_shift(index)]
        old_feed = {layer_window(index): window}
        if WEIGHTS_INPUT in idle:
            old_feed[WEIGHTS_INPUT] = weights
        for want, got in zip(
            old_l.run(names, old_feed),
            new_l.run(names, {**idle, layer_window(index): window}),
            strict=True,
        ):
            assert np.array_equal(want, got)
            compared += 1
    return compared


def convert(path: Path) -> str:
    """Convert the format-3 model at ``path`` in place; one line saying what happened."""
    old = onnx.load(str(path))
    props = props_of(old)
    if props.get(FORMAT_KEY) != "3":
        return f"{path.name}: format {props.get(FORMAT_KEY)}, left as it is"
    old_layers_name, old_digest = parse_layers_reference(props[LAYERS_KEY])
    old_layers_path = path.parent / old_layers_name
    if file_sha256(old_layers_path) != old_digest:
        raise SystemExit(f"{old_layers_path} is not the layer graphs of {path.name}")
    old_layers = onnx.load(str(old_layers_path))
    parts = split(old, old_layers, path.name)
    statistics_name, statistics = parts["statistics"]
    layers_name, layers = parts["layers"]
    # the references carry the files' sha256: serialise as save_model writes them
    scratch = path.parent / ".split-check"
    scratch.mkdir(exist_ok=True)
    try:
        digests = {}
        for name, graph in ((statistics_name, statistics), (layers_name, layers)):
            file = save_model(graph, scratch / Path(name).name)
            digests[name] = file_sha256(file)
        model = finish(
            statistics,
            props,
            layers_reference(layers_name, digests[layers_name]),
            layers_reference(statistics_name, digests[statistics_name]),
        )
        compared = verify(old, old_layers, model, statistics, layers)
    finally:
        for file in scratch.iterdir():
            file.unlink()
        scratch.rmdir()
    for name, graph in ((statistics_name, statistics), (layers_name, layers)):
        save_model(graph, path.parent / name)
        assert file_sha256(path.parent / name) == digests[name]
    save_model(model, path)
    old_layers_path.unlink()
    update_card(path, props)
    return (
        f"{path.name}: {compared} outputs identical; {path.stat().st_size} B model, "
        f"{(path.parent / statistics_name).stat().st_size} B statistics graph, "
        f"{(path.parent / layers_name).stat().st_size} B layer graphs"
    )


def update_card(path: Path, props: dict[str, str]) -> None:
    """The card of the converted model: format 4, the app-facing contract, the new file."""
    card = ModelCard.read(card_path(path))
    data = card.to_dict()
    data.update(
        format_version=FORMAT_VERSION,
        contract=io_contract(len(card.styles), card.multi_style),
        file_size=path.stat().st_size,
        sha256=file_sha256(path),
    )
    ModelCard.from_dict(data).write(card_path(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path, help="default: exported/*.onnx")
    args = parser.parse_args()
    models = args.models or sorted(
        p for p in shipped_models_dir().glob("*.onnx") if p.stem.count(".") == 0
    )
    for path in models:
        print(convert(path), flush=True)


if __name__ == "__main__":
    main()
