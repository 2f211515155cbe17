"""``WS /v1/live`` in-process: frames in and out, the stabiliser, option changes, bad frames,
dropping stale frames when the client sends faster than the server stylizes."""

from __future__ import annotations

import time

import numpy as np
import pytest
from starlette.websockets import WebSocketDisconnect

from stylenet import extras
from stylenet.serve.http.images import encode_image
from stylenet.serve.http.live import LIVE_QUALITY
from stylenet.serve.pipeline import stylize_array
from stylenet.serve.temporal import TemporalStabilizer
from tests.serve.http.conftest import replaced
from tests.serve.http.helpers import MULTI, SINGLE, GatedStylizer, decoded, encoded, picture


def frame(height=48, width=64, seed=0) -> bytes:
    return encoded(picture(height, width, seed), "JPEG")


def test_frames_come_back_stylized_and_stabilised(client, served_models):
    frames = [frame(seed=0), frame(seed=0), frame(seed=1)]
    with client.websocket_connect(f"/v1/live?model={SINGLE}&temporal=0.9") as ws:
        outputs = []
        for data in frames:
            ws.send_bytes(data)
            outputs.append(decoded(ws.receive_bytes()))
    stylizer = served_models[SINGLE].stylizer
    stabilizer = TemporalStabilizer(strength=0.9)
    for data, out in zip(frames, outputs, strict=True):
        content = decoded(data)
        expected = stabilizer(stylize_array(stylizer, content, tile_size=-1), content)
        as_sent = decoded(encode_image(expected, "jpeg", LIVE_QUALITY)).astype(int)
        assert out.shape == content.shape and np.abs(out - as_sent).max() <= 1


def test_option_changes_and_bad_frames_keep_the_stream_going(client):
    with client.websocket_connect(f"/v1/live?model={MULTI}&style=wave&temporal=0") as ws:
        ws.send_bytes(frame())
        wave = decoded(ws.receive_bytes()).astype(int)
        ws.send_text('{"style": "the_scream"}')
        ws.send_bytes(frame())
        scream = decoded(ws.receive_bytes()).astype(int)
        assert np.abs(wave - scream).mean() > 5
        ws.send_text('{"style": "nope"}')
        assert "unknown style" in ws.receive_json()["error"]
        ws.send_text('{"colour": 1}')
        assert "unknown live option" in ws.receive_json()["error"]
        ws.send_text("not json")
        assert "error" in ws.receive_json()
        ws.send_bytes(b"not a jpeg")
        assert "not a readable image" in ws.receive_json()["error"]
        ws.send_bytes(frame())
        assert np.abs(decoded(ws.receive_bytes()).astype(int) - scream).mean() < 3


def test_large_frames_are_stylized_at_live_side(make_client):
    client = make_client(live_side=64)
    with client.websocket_connect(f"/v1/live?model={SINGLE}") as ws:
        ws.send_bytes(frame(120, 160))
        assert decoded(ws.receive_bytes()).shape == (48, 64, 3)


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("model=nope", "no model named"),
        (f"model={MULTI}&style=nope", "unknown style"),
        (f"model={SINGLE}&temporal=3", "temporal strength"),
    ],
)
def test_bad_connection_options_are_refused(client, query, words):
    with client.websocket_connect(f"/v1/live?{query}") as ws:
        assert words in ws.receive_json()["error"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_bytes()
        assert closed.value.code == 1008


def test_live_without_opencv_says_so_and_closes(client, monkeypatch):
    monkeypatch.setattr(extras, "installed", lambda module: module != "cv2")
    with client.websocket_connect(f"/v1/live?model={SINGLE}") as ws:
        assert ws.receive_json()["error"] == (
            'WS /v1/live needs the video extra: pip install "stylenet[video]" '
            "(missing: opencv-python-headless)"
        )
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_bytes()
        assert closed.value.code == 1008
    files = {"image": ("photo.jpg", frame(), "image/jpeg")}
    answer = client.post("/v1/stylize", params={"model": SINGLE}, files=files)
    assert answer.status_code == 200, answer.text  # still images are served as before


def test_api_key_is_needed_for_live(make_client):
    client = make_client(api_key="k")
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect(f"/v1/live?model={SINGLE}") as ws,
    ):
        ws.receive_bytes()
    assert closed.value.code == 1008
    with client.websocket_connect(f"/v1/live?model={SINGLE}&api_key=k") as ws:
        ws.send_bytes(frame())
        assert ws.receive_bytes()


def test_stale_frames_are_dropped_and_the_newest_is_stylized(make_client, served_models):
    gated = GatedStylizer(served_models[SINGLE].stylizer)
    client = make_client(models=replaced(served_models, SINGLE, gated))
    widths = [64, 72, 80, 88, 96]
    with client.websocket_connect(f"/v1/live?model={SINGLE}&temporal=0") as ws:
        ws.send_bytes(frame(48, widths[0]))
        assert gated.entered.wait(10)
        for width in widths[1:]:
            ws.send_bytes(frame(48, width))
        time.sleep(0.5)  # the receiver files them while the first one is on the worker
        gated.gate.set()
        first = decoded(ws.receive_bytes())
        newest = decoded(ws.receive_bytes())
        assert (first.shape[1], newest.shape[1]) == (widths[0], widths[-1])
        ws.send_text('{"style": "nope"}')  # the next message is this answer, not a frame
        assert "error" in ws.receive_json()
    text = client.get("/metrics").text
    assert 'stylenet_live_frames_total{result="dropped"} 3' in text
    assert 'stylenet_live_frames_total{result="sent"} 2' in text
