"""The real ``stylenet-serve`` process on a free loopback port: bounded concurrent load with
mixed and corrupt images, replicas giving identical answers, graceful shutdown."""

from __future__ import annotations

import io
import re
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from PIL import Image

from tests.serve.http.helpers import SINGLE, Server, encoded, have_models, picture, png_claiming

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not have_models(), reason="shipped models are not installed"),
]

REQUESTS = 24
CLIENTS = 6


@pytest.fixture
def server(tmp_path):
    running = Server(tmp_path, f"models=[{SINGLE}]", "workers=1", "queue=2", "max_megapixels=1")
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
    # uvicorn re-raises the signal once done; stylenet's handler then exits 128 + SIGTERM
    assert server.stop() in (0, -signal.SIGTERM, 128 + signal.SIGTERM)
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


def read_response(sock: socket.socket, *, deadline: float) -> str:
    """One whole HTTP/1.1 response (head and ``Content-Length`` body) from ``sock``, however
    the server splits it into writes; fails after ``deadline`` (``time.monotonic()``)."""
    data = b""
    while True:
        head, found, body = data.partition(b"\r\n\r\n")
        if found:
            length = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
            if length is None or len(body) >= int(length.group(1)):
                return data.decode("latin-1")
        left = deadline - time.monotonic()
        assert left > 0, f"no whole response in time, got {data!r}"
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            return data.decode("latin-1")
        data += chunk


def test_a_slow_body_gets_408_and_frees_its_place(tmp_path):
    """A client that stops sending its body mid-way holds a queue place only ``body_timeout``
    seconds; then it gets 408 and other requests go on (queue=0: the one place is the worker)."""
    timeout = 1.0
    server = Server(tmp_path, f"models=[{SINGLE}]", "queue=0", f"body_timeout={timeout}")
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as slow:
            # the server's clock starts after it has the head, so never before this one
            start = time.monotonic()
            slow.sendall(
                f"POST /v1/stylize?model={SINGLE} HTTP/1.1\r\nHost: x\r\n".encode()
                + b"Content-Type: image/png\r\nContent-Length: 5000\r\n\r\n"
                + encoded(picture(48, 64))[:100]
            )
            answer = read_response(slow, deadline=start + 60)
            waited = time.monotonic() - start
        assert answer.startswith("HTTP/1.1 408"), answer
        assert "body_timeout" in answer, answer
        # not before the timeout (less the event loop's clock resolution), nor long after it
        assert timeout - 0.05 < waited < 20 * timeout, waited
        photo = encoded(picture(48, 64, seed=4))
        response = httpx.post(f"{server.url}/v1/stylize?model={SINGLE}", content=photo, timeout=60)
        assert response.status_code == 200
        assert server.process.poll() is None
    finally:
        server.stop()
