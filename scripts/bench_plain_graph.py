"""Speed of a shipped model's app-facing graph against the graph it replaced (ONNX Runtime, CPU).

    python scripts/bench_plain_graph.py
    python scripts/bench_plain_graph.py --models wave,multi_style --before 243b2d0 --instance-norm

Graphs timed on the same input, interleaved repeat by repeat (so a busy machine slows all
alike), median of ``--repeats`` runs after ``--warmup``:

- ``model``: ``exported/x.onnx`` (format 4: ``image`` → ``stylized``, nothing else);
- ``statistics graph``: ``exported/tiling/x.statistics.onnx`` fed one NaN row, the same
  computation as the format-3 model, whose ``statistics`` input defaulted to that row;
- ``format 3`` (``--before REV``): ``exported/x.onnx`` as committed at ``REV`` (``git show``),
  run without ``statistics`` (its default);
- ``InstanceNormalization`` (``--instance-norm``): the checkpoint
  ``training/x/checkpoints/last.ckpt`` exported straight from ``forward`` (ONNX's fused
  ``InstanceNormalization`` instead of explicit moments; needs torch): what a graph without
  the statistics machinery at all would give. Its max |difference| from ``model`` is printed.

Prints a Markdown table (milliseconds per 640×480 frame by default).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from stylenet.contract import (
    OUTPUT,
    STATISTICS_GRAPH_KEY,
    STATISTICS_INPUT,
    STYLES_KEY,
    WEIGHTS_INPUT,
    parse_layers_reference,
    statistics_channels_from_metadata,
)
from stylenet.resources import shipped_models_dir

REPO = Path(__file__).resolve().parents[1]


def session(model: str | bytes, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3  # a format-3 graph warns about its input default
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


def instance_norm_graph(name: str) -> bytes:
    """The checkpoint's network exported from ``forward`` (fused ``InstanceNormalization``)."""
    import torch

    from stylenet.export.onnx import OPSET, _example_inputs, _tidy, quiet
    from stylenet.nn.checkpoint import load_transformer

    net, _ = load_transformer(REPO / "training" / name / "checkpoints" / "last.ckpt")
    module = net.cpu().float().eval()
    args, names, shapes = _example_inputs(module)
    with torch.no_grad(), quiet():
        program = torch.onnx.export(
            module,
            args,
            input_names=names,
            output_names=[OUTPUT],
            opset_version=OPSET,
            dynamo=True,
            dynamic_shapes=shapes,
            external_data=False,
        )
    assert program is not None
    model = program.model_proto
    _tidy(model)
    return model.SerializeToString()


def candidates(name: str, args: argparse.Namespace) -> dict[str, tuple[ort.InferenceSession, dict]]:
    """Label → (session, extra feed) for model ``name``."""
    path = shipped_models_dir() / f"{name}.onnx"
    model = session(str(path), args.threads)
    meta = dict(model.get_modelmeta().custom_metadata_map)
    out: dict[str, tuple[ort.InferenceSession, dict]] = {"model": (model, {})}
    if STATISTICS_GRAPH_KEY in meta:
        file, _ = parse_layers_reference(meta[STATISTICS_GRAPH_KEY], STATISTICS_GRAPH_KEY)
        size = 2 * sum(statistics_channels_from_metadata(meta) or [])
        nan = np.full((1, size), np.nan, dtype=np.float32)
        out["statistics graph"] = (
            session(str(path.parent / file), args.threads),
            {STATISTICS_INPUT: nan},
        )
    if args.before:
        blob = subprocess.run(
            ["git", "show", f"{args.before}:exported/{name}.onnx"],
            cwd=REPO,
            capture_output=True,
            check=True,
        ).stdout
        out[f"format 3 ({args.before})"] = (session(blob, args.threads), {})
    if args.instance_norm:
        out["InstanceNormalization"] = (session(instance_norm_graph(name), args.threads), {})
    return out


def photo(width: int, height: int) -> np.ndarray:
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    noise = np.random.default_rng(0).random((3, height, width), dtype=np.float32)
    return ((np.stack([x * y, x * (1 - y), (1 - x) * y]) * 200 + noise * 55)[None]).astype(
        np.float32
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="wave,multi_style,starry_night_fast")
    parser.add_argument("--size", default="640x480", help="WxH")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--before", default=None, help="git revision with the format-3 files")
    parser.add_argument("--instance-norm", action="store_true")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    image = photo(width, height)
    rows = []
    for name in args.models.split(","):
        graphs = candidates(name, args)
        model = graphs["model"][0]
        feed = {"image": image}
        styles = json.loads(model.get_modelmeta().custom_metadata_map[STYLES_KEY])
        if WEIGHTS_INPUT in {i.name for i in model.get_inputs()}:
            feed[WEIGHTS_INPUT] = np.eye(1, len(styles), dtype=np.float32)
        reference = model.run([OUTPUT], feed)[0]
        times: dict[str, list[float]] = {label: [] for label in graphs}
        diffs = {}
        for label, (graph, extra) in graphs.items():
            got = graph.run([OUTPUT], {**feed, **extra})[0]
            diffs[label] = float(np.abs(got - reference).max())
            for _ in range(args.warmup - 1):
                graph.run([OUTPUT], {**feed, **extra})
        for _ in range(args.repeats):
            for label, (graph, extra) in graphs.items():
                start = time.perf_counter()
                graph.run([OUTPUT], {**feed, **extra})
                times[label].append(time.perf_counter() - start)
        base = statistics.median(times["model"])
        for label in graphs:
            median = statistics.median(times[label])
            rows.append(
                f"| {name} | {label} | {median * 1e3:.1f} | {median / base:.3f} | {diffs[label]:.2g} |"
            )
    print(
        f"ONNX Runtime {ort.__version__}, CPU, {args.threads} threads, {width}x{height}, "
        f"median of {args.repeats}"
    )
    print("| model | graph | ms/frame | × model | max abs diff vs model |")
    print("|---|---|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
