"""The real ``stylenet-serve`` process on a free loopback port: bounded concurrent load with
mixed and corrupt images, replicas giving identical answers, graceful shutdown."""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.serve.http.helpers import REPO, SINGLE, encoded, have_models, picture, png_claiming

pytestmark = pytest.mark.skipif(not have_models(), reason="shipped models are not installed")

HOST = "127.0.0.1"
REQUESTS = 24
CLIENTS = 6


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """``python -m stylenet.cli.serve`` on a free port of 127.0.0.1, ready when started."""

    def __init__(self, cwd: Path, *overrides: str) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
        env.pop("STYLENET_API_KEY", None)
        command = [sys.executable, "-m", "stylenet.cli.serve", f"host={HOST}"]
        command += [f"port={self.port}", f"models=[{SINGLE}]", "intra_op_threads=1"]
        self.log = cwd / f"server_{self.port}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [*command, *overrides], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"server not ready in 90 s:\n{self.log.read_text()}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


@pytest.fixture
def server(tmp_path):
    running = Server(tmp_path, "workers=1", "queue=2", "max_megapixels=1")
    yield running
    running.stop()


def load_body(index: int) -> tuple[bytes, tuple[int, int] | None]:
    """Request ``index``'s image and the size a 200 must have (``None``: must be refused)."""
    if index % 6 == 5:
        return encoded(picture(64, 64), "JPEG")[:200], None  # truncated
    if index % 6 == 4:
        return b"\x00garbage" * 20, None
    if index % 12 == 3:
        return png_claiming(4000, 4000), None  # over max_megapixels
    height, width = 32 + 16 * (index % 5), 48 + 24 * (index % 7)
    return encoded(picture(height, width, seed=index)), (height, width)


def check_answer(response: httpx.Response, expected: tuple[int, int] | None) -> str:
    code = response.status_code
    if code == 200:
        assert expected is not None, "a broken image was stylized"
        with Image.open(io.BytesIO(response.content)) as img:
            img.load()
            assert (img.height, img.width) == expected
        return "ok"
    if code == 503:
        assert response.headers["retry-after"] == "1"
        return "busy"
    assert 400 <= code < 500, (code, response.text)
    assert expected is None, response.text
    assert response.json()["error"]
    return "refused"


def test_bounded_concurrent_load_stays_healthy(server):
    def one(index: int) -> str:
        body, expected = load_body(index)
        with httpx.Client(base_url=server.url, timeout=60) as client:
            response = client.post(
                "/v1/stylize", params={"model": SINGLE}, files={"image": ("p.png", body)}
            )
        return check_answer(response, expected)

    with ThreadPoolExecutor(max_workers=CLIENTS) as clients:
        results = list(clients.map(one, range(REQUESTS)))
    assert results.count("ok") >= 1 and results.count("refused") >= 1, results
    assert server.process.poll() is None
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    metrics = httpx.get(f"{server.url}/metrics").text
    counted = re.findall(
        r'stylenet_http_requests_total\{route="/v1/stylize",code="\d+"\} (\d+)', metrics
    )
    assert sum(map(int, counted)) == REQUESTS
    assert "stylenet_queue_depth 0" in metrics and "stylenet_workers_busy 0" in metrics


def test_shutdown_finishes_the_request_in_flight(server):
    body = encoded(picture(720, 960))
    answer: dict[str, httpx.Response] = {}

    def post() -> None:
        answer["r"] = httpx.post(
            f"{server.url}/v1/stylize?model={SINGLE}&format=png", content=body, timeout=120
        )

    thread = threading.Thread(target=post)
    thread.start()
    deadline = time.monotonic() + 30
    while "stylenet_workers_busy 1" not in httpx.get(f"{server.url}/metrics").text:
        assert time.monotonic() < deadline, "the request never reached a worker"
        time.sleep(0.005)
    assert server.stop() in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once done
    thread.join(60)
    assert "Application shutdown complete" in server.log.read_text()
    assert answer["r"].status_code == 200
    with Image.open(io.BytesIO(answer["r"].content)) as img:
        assert img.size == (960, 720)


def test_replicas_are_stateless_and_give_identical_answers(server, tmp_path):
    """Replicas behind a reverse proxy: any of them gives the same bytes and ETags."""
    other = Server(tmp_path)
    try:
        photo = encoded(picture(48, 64, seed=3))
        answers = [
            httpx.post(f"{s.url}/v1/stylize?model={SINGLE}&format=png", content=photo, timeout=60)
            for s in (server, other, server)
        ]
        assert all(a.status_code == 200 for a in answers)
        assert answers[0].content == answers[1].content == answers[2].content
        etags = {
            httpx.get(f"{s.url}/v1/models/{SINGLE}/onnx").headers["etag"] for s in (server, other)
        }
        assert len(etags) == 1
    finally:
        other.stop()
