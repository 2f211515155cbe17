"""Throughput and latency of stylenet-serve against the same model called in-process, and
in-browser ONNX Runtime (onnxruntime-web, WASM) against ONNX Runtime in Python.

    python scripts/bench_serve.py --model starry_night --side 512 --clients 1,2,4,8
    python scripts/bench_serve.py --model starry_night --side 512 --browser-only

HTTP: a real ``stylenet-serve`` process on a free 127.0.0.1 port; each client posts 512 px
JPEG photos one after another (``--requests`` each). Reported per client count: images/s
and p50/p99 latency, median over ``--repeats`` runs. Baselines in the same run, one call at
a time and interleaved with single HTTP requests (so all see the same load on a shared CPU):
the stylizer on the decoded array (``inference``) and decode + stylize + encode
(``in-process``); the HTTP overhead at one client is p50(HTTP) / p50(in-process) - 1.
Browser: median ms per frame of the model at ``--side``×``--side`` in headless Chromium
(WASM, one thread: the page is not cross-origin isolated) against Python ONNX Runtime with
one and with the default number of intra-op threads.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from stylenet.serve.http.models import load_models  # noqa: E402
from stylenet.serve.http.params import StyleOptions  # noqa: E402
from stylenet.serve.http.routes import stylize_bytes  # noqa: E402
from stylenet.serve.http.settings import ServerSettings  # noqa: E402
from stylenet.serve.pipeline import stylize_array  # noqa: E402
from tests.serve.http.helpers import Server, picture  # noqa: E402


def photo_jpeg(side: int, seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture(side * 3 // 4, side, seed=seed)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def one_request(url: str, model: str, body: bytes) -> float:
    start = time.perf_counter()
    answer = httpx.post(
        f"{url}/v1/stylize", params={"model": model}, files={"image": ("p.jpg", body)}, timeout=300
    )
    answer.raise_for_status()
    return time.perf_counter() - start


def paired(url: str, args: argparse.Namespace) -> dict[str, float]:
    """p50 seconds of one call, interleaved so that all three see the same CPU load: the
    stylizer on an array, bytes → bytes in-process, and one HTTP request."""
    served = load_models([args.model], intra_op_threads=args.threads)[args.model]
    data = photo_jpeg(args.side, 0)
    array = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    settings, options = ServerSettings(), StyleOptions(weights=None)
    stylize_array(served.stylizer, array)  # warm-up
    times: dict[str, list[float]] = {"inference": [], "in-process": [], "http": []}
    for _ in range(args.repeats * args.requests):
        start = time.perf_counter()
        stylize_array(served.stylizer, array)
        times["inference"].append(time.perf_counter() - start)
        start = time.perf_counter()
        stylize_bytes(served, data, options, settings)
        times["in-process"].append(time.perf_counter() - start)
        times["http"].append(one_request(url, args.model, data))
    return {name: statistics.median(values) for name, values in times.items()}


def http_run(url: str, model: str, side: int, clients: int, requests: int) -> dict[str, float]:
    bodies = [photo_jpeg(side, seed) for seed in range(clients)]

    def client(index: int) -> list[float]:
        times = []
        with httpx.Client(base_url=url, timeout=300) as session:
            for _ in range(requests):
                start = time.perf_counter()
                answer = session.post(
                    "/v1/stylize",
                    params={"model": model},
                    files={"image": ("p.jpg", bodies[index])},
                )
                times.append(time.perf_counter() - start)
                answer.raise_for_status()
        return times

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = [t for times in pool.map(client, range(clients)) for t in times]
    wall = time.perf_counter() - start
    return {
        "images/s": len(latencies) / wall,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
    }


def bench_http(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = Server(
            Path(folder),
            f"models=[{args.model}]",
            f"workers={args.workers}",
            f"intra_op_threads={args.threads}",
            "queue=64",
            "log_level=warning",
        )
        try:
            http_run(server.url, args.model, args.side, 1, 1)  # warm-up
            base = paired(server.url, args)
            count = args.repeats * args.requests
            print(
                f"one call at a time, {args.side} px {args.model}, median of {count} interleaved:"
            )
            for name in ("inference", "in-process", "http"):
                ratio = base[name] / base["in-process"]
                print(f"  {name:11s} p50 {base[name] * 1000:7.1f} ms   {ratio:5.2f}x in-process")
            print(f"HTTP (stylenet-serve, workers={args.workers}), median of {args.repeats} runs:")
            print("  clients  images/s   p50 ms   p99 ms")
            for clients in [int(c) for c in args.clients.split(",")]:
                runs = [
                    http_run(server.url, args.model, args.side, clients, args.requests)
                    for _ in range(args.repeats)
                ]
                med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                print(
                    f"  {clients:7d} {med['images/s']:9.2f} {med['p50'] * 1000:8.1f} "
                    f"{med['p99'] * 1000:8.1f}"
                )
        finally:
            server.stop()


def bench_browser(args: argparse.Namespace) -> None:
    import onnxruntime as ort

    from tests.serve.http.browser import browser_page

    served = load_models([args.model])[args.model]
    pixels = np.random.default_rng(0).uniform(0, 255, (1, 3, args.side, args.side))
    feed = {"image": pixels.astype(np.float32)}
    results = {}
    for threads in (1, 0):
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        session = ort.InferenceSession(
            str(served.path), options, providers=["CPUExecutionProvider"]
        )
        session.run(None, feed)
        times = []
        for _ in range(args.frames):
            start = time.perf_counter()
            session.run(None, feed)
            times.append((time.perf_counter() - start) * 1000)
        results[f"Python ORT, {threads or 'default'} thread(s)"] = statistics.median(times)
    with tempfile.TemporaryDirectory() as folder:
        server = Server(Path(folder), f"models=[{args.model}]", "log_level=warning")
        try:
            with browser_page() as page:
                page.goto(server.url + "/browser?backend=wasm")
                page.wait_for_function("document.body.dataset.ready === 'true'", timeout=120_000)
                times = page.evaluate(
                    "([n, s, r]) => window.stylenetBrowser.timeModel(n, s, s, r)",
                    [args.model, args.side, args.frames],
                )
                results["onnxruntime-web WASM, 1 thread"] = statistics.median(times)
        finally:
            server.stop()
    reference = results["Python ORT, 1 thread(s)"]
    print(f"ms per frame, {args.model} at {args.side}×{args.side}, median of {args.frames}:")
    for name, ms in results.items():
        print(f"  {name:34s} {ms:8.1f} ms   {ms / reference:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="starry_night")
    parser.add_argument("--side", type=int, default=512)
    parser.add_argument("--clients", default="1,2,4,8")
    parser.add_argument("--requests", type=int, default=3, help="per client per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads")
    parser.add_argument("--frames", type=int, default=5, help="browser benchmark repeats")
    parser.add_argument("--browser-only", action="store_true")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    if not args.browser_only:
        bench_http(args)
    if not args.no_browser:
        bench_browser(args)


if __name__ == "__main__":
    main()
