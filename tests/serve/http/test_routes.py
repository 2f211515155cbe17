"""The HTTP API through the real app in-process: every endpoint and every bad input."""

from __future__ import annotations

import hashlib
import json
import threading

import numpy as np
import pytest

from stylenet.serve.pipeline import stylize_array
from tests.serve.http.conftest import replaced
from tests.serve.http.helpers import (
    MULTI,
    SINGLE,
    CrashingStylizer,
    GatedStylizer,
    decoded,
    encoded,
    picture,
    png_claiming,
)


def stylize(client, params="", data=None, multipart=True, **query):
    body = encoded(picture()) if data is None else data
    url = f"/v1/stylize?{params}"
    if multipart:
        return client.post(url, params=query, files={"image": ("photo.png", body, "image/png")})
    return client.post(url, params=query, content=body, headers={"content-type": "image/png"})


def assert_error(response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    message = response.json()["error"]
    assert "\n" not in message and message
    for word in words:
        assert word in message, message


def test_health_ready_and_metrics(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["models"] == [SINGLE, MULTI]
    assert stylize(client, model=SINGLE).status_code == 200
    assert stylize(client, model="nope").status_code == 404
    text = client.get("/metrics").text
    assert 'stylenet_http_requests_total{route="/v1/stylize",code="200"} 1' in text
    assert 'stylenet_http_requests_total{route="/v1/stylize",code="404"} 1' in text
    assert 'stylenet_http_request_duration_seconds_count{route="/v1/stylize"} 2' in text
    for name in ("stylenet_http_in_flight", "stylenet_queue_depth 0", "stylenet_workers 1"):
        assert name in text


def test_readyz_waits_for_models_and_reports_a_load_failure(make_client):
    from fastapi.testclient import TestClient

    from stylenet.serve.http.app import create_app
    from stylenet.serve.http.settings import ServerSettings

    with TestClient(create_app(ServerSettings(models=("missing_model.onnx",)))) as client:
        for _ in range(200):
            ready = client.get("/readyz")
            if "not found" in ready.text:
                break
        assert_error(ready, 503, "missing_model.onnx")
        assert_error(stylize(client), 503, "not found")
        assert client.get("/healthz").status_code == 200


def test_models_list_detail_and_onnx_file(client, served_models):
    listed = client.get("/v1/models").json()["models"]
    assert [m["name"] for m in listed] == [SINGLE, MULTI]
    multi = client.get(f"/v1/models/{MULTI}").json()
    assert multi["multi_style"] and multi["styles"] == served_models[MULTI].styles
    assert multi["card"]["styles"] == multi["styles"]
    onnx = client.get(multi["onnx_url"])
    digest = hashlib.sha256(served_models[MULTI].path.read_bytes()).hexdigest()
    assert onnx.status_code == 200 and hashlib.sha256(onnx.content).hexdigest() == digest
    assert onnx.headers["etag"] == f'"{digest}"' and multi["sha256"] == digest
    again = client.get(multi["onnx_url"], headers={"If-None-Match": onnx.headers["etag"]})
    assert again.status_code == 304 and not again.content
    assert client.get(multi["onnx_url"], headers={"If-None-Match": '"x"'}).status_code == 200
    assert_error(client.get("/v1/models/nope"), 404, "nope", SINGLE)
    assert_error(client.get("/v1/models/nope/onnx"), 404, "nope")


def test_stylize_matches_the_pipeline_in_every_way_of_sending(client, served_models):
    photo = picture(40, 56)
    expected = stylize_array(served_models[SINGLE].stylizer, photo)
    for multipart in (True, False):
        response = stylize(
            client, data=encoded(photo), multipart=multipart, model=SINGLE, format="png"
        )
        assert response.status_code == 200 and response.headers["content-type"] == "image/png"
        assert np.array_equal(decoded(response.content), expected)
    for fmt, magic in (("jpeg", b"\xff\xd8"), ("webp", b"RIFF")):
        response = stylize(client, data=encoded(photo), model=SINGLE, format=fmt)
        assert response.content.startswith(magic) and decoded(response.content).shape == photo.shape


def test_stylize_options_change_the_result(client, served_models):
    photo = picture(48, 64)

    def run(**query):
        response = stylize(client, data=encoded(photo), format="png", **query)
        assert response.status_code == 200, response.text
        return decoded(response.content).astype(int)

    wave = run(model=MULTI, style="wave")
    scream = run(model=MULTI, style="the_scream")
    half = run(model=MULTI, blend="wave:1,the_scream:1")
    as_json = run(model=MULTI, blend=json.dumps({"wave": 0.5, "the_scream": 0.5}))
    assert np.abs(wave - scream).mean() > 5
    assert np.array_equal(half, as_json)
    assert np.abs(half - wave).mean() > 1 and np.abs(half - scream).mean() > 1
    assert np.abs(run(model=MULTI, strength=0) - photo).max() <= 1
    assert np.abs(run(model=SINGLE, preserve_color=True) - run(model=SINGLE)).mean() > 2
    assert run(model=SINGLE, size=96).shape == (72, 96, 3)


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ({}, 400, ("model= is required", SINGLE)),
        ({"model": "nope"}, 404, ("nope",)),
        ({"model": MULTI, "style": "nope"}, 400, ("unknown style", "wave")),
        ({"model": MULTI, "blend": "wave:1,nope:1"}, 400, ("unknown style",)),
        ({"model": MULTI, "blend": "wave=1"}, 400, ("blend must look like",)),
        ({"model": MULTI, "blend": "wave:-1"}, 400, (">= 0",)),
        ({"model": MULTI, "blend": "wave:0"}, 400, ("all zero",)),
        ({"model": MULTI, "blend": "wave:x"}, 400, ("must be a number",)),
        ({"model": MULTI, "blend": "{bad json"}, 400, ("blend must look like",)),
        ({"model": MULTI, "style": "wave", "blend": "wave:1"}, 400, ("not both",)),
        ({"model": SINGLE, "strength": "2"}, 400, ("strength must be in [0, 1]",)),
        ({"model": SINGLE, "strength": "nan"}, 400, ("strength",)),
        ({"model": SINGLE, "strength": "abc"}, 400, ("strength", "abc")),
        ({"model": SINGLE, "size": "10"}, 400, ("size must be >= 32",)),
        ({"model": SINGLE, "size": "big"}, 400, ("size",)),
        ({"model": SINGLE, "format": "gif"}, 400, ("format must be one of",)),
        ({"model": SINGLE, "preserve_color": "maybe"}, 400, ("preserve_color",)),
        ({"model": SINGLE, "size": "20000"}, 413, ("size=", "megapixels")),
    ],
)
def test_bad_options_get_one_line_json_errors(client, query, status, words):
    assert_error(stylize(client, **query), status, *words)


def test_bad_images_get_one_line_json_errors(make_client):
    client = make_client(max_body_bytes=50_000, max_pixels=1_000_000)
    assert_error(stylize(client, data=b"", model=SINGLE, multipart=False), 400, "no image")
    assert_error(stylize(client, data=b"not an image", model=SINGLE), 400, "not a readable image")
    truncated = encoded(picture(64, 64), "JPEG")[:300]
    assert_error(stylize(client, data=truncated, model=SINGLE), 400, "image")
    assert_error(stylize(client, data=encoded(picture(16, 16)), model=SINGLE), 400, "too small")
    assert_error(stylize(client, data=png_claiming(2_000, 1_000), model=SINGLE), 413, "2000×1000")
    assert_error(
        stylize(client, data=png_claiming(30_000, 30_000), model=SINGLE), 413, "megapixels"
    )
    big = np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    for multipart in (True, False):
        response = stylize(client, data=encoded(big), model=SINGLE, multipart=multipart)
        assert_error(response, 413, "larger than 0.05 MB")
    no_field = client.post(f"/v1/stylize?model={SINGLE}", files={"photo": ("a.png", b"x")})
    assert_error(no_field, 400, "field 'image'")
    assert client.get("/healthz").status_code == 200


def test_full_pool_answers_503_with_retry_after(make_client, served_models):
    gated = GatedStylizer(served_models[SINGLE].stylizer)
    client = make_client(
        models=replaced(served_models, SINGLE, gated), workers=1, queue=1, retry_after=7
    )
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(stylize(client, model=SINGLE)))]
    threads.append(threading.Thread(target=lambda: answers.append(stylize(client, model=SINGLE))))
    threads[0].start()
    assert gated.entered.wait(10)
    threads[1].start()  # waits in the queue
    for _ in range(200):
        if "stylenet_queue_depth 1" in client.get("/metrics").text:
            break
    busy = stylize(client, model=SINGLE)
    assert_error(busy, 503, "busy")
    assert busy.headers["retry-after"] == "7"
    gated.gate.set()
    for thread in threads:
        thread.join(20)
    assert sorted(a.status_code for a in answers) == [200, 200]
    assert stylize(client, model=SINGLE).status_code == 200


def test_a_crashing_backend_gets_500_and_the_server_goes_on(make_client, served_models):
    crashing = CrashingStylizer(served_models[SINGLE].stylizer)
    models = replaced(served_models, SINGLE, crashing)
    client = make_client(models=models, raise_server_exceptions=False)
    assert_error(stylize(client, model=SINGLE), 500, "RuntimeError", "keeps running")
    assert stylize(client, model=MULTI).status_code == 200
    assert client.get("/healthz").status_code == 200


def test_api_key_protects_everything_but_health_and_the_page(make_client):
    client = make_client(api_key="s3cret")
    assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200
    assert client.get("/").status_code == 200
    for path in ("/v1/models", "/metrics", "/docs", f"/v1/models/{SINGLE}/onnx"):
        assert_error(client.get(path), 401, "API key")
    assert_error(stylize(client, model=SINGLE), 401, "X-API-Key")
    assert_error(client.get("/v1/models", headers={"X-API-Key": "wrong"}), 401)
    assert client.get("/v1/models", headers={"X-API-Key": "s3cret"}).status_code == 200
    assert client.get("/v1/models", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.get("/v1/models?api_key=s3cret").status_code == 200
    assert 'code="401"' in client.get("/metrics?api_key=s3cret").text


def test_docs_page_and_unknown_routes(client):
    spec = client.get("/openapi.json").json()
    assert {"/v1/stylize", "/v1/models", "/v1/models/{name}/onnx", "/healthz"} <= set(spec["paths"])
    assert "multipart/form-data" in spec["paths"]["/v1/stylize"]["post"]["requestBody"]["content"]
    assert client.get("/docs").status_code == 200
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert_error(client.get("/v2/nothing"), 404, "/docs")
    assert_error(client.get("/v1/stylize"), 405)


def test_body_limit_holds_without_content_length(make_client):
    """A chunked body (no Content-Length) is cut off once it passes the limit."""
    client = make_client(max_body_bytes=50_000)

    def chunks():
        for _ in range(100):
            yield b"\0" * 10_000

    url = f"/v1/stylize?model={SINGLE}"
    response = client.post(url, content=chunks(), headers={"content-type": "image/png"})
    assert_error(response, 413, "larger than 0.05 MB")
    small = encoded(picture())
    ok = client.post(
        url, content=iter([small[:100], small[100:]]), headers={"content-type": "image/png"}
    )
    assert ok.status_code == 200


def painting_upload(client, painting: bytes | None, **query):
    files = {"image": ("photo.png", encoded(picture(64, 80)), "image/png")}
    if painting is not None:
        files["painting"] = ("painting.png", painting, "image/png")
    return client.post("/v1/stylize", params=query, files=files)


def test_a_painting_upload_needs_no_model(client):
    swirls = encoded(picture(96, 96, seed=5)[:, ::-1].copy())
    answer = painting_upload(client, swirls, format="png", strength=0.8)
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-stylenet-model"] == "arbitrary"
    out = decoded(answer.content)
    assert out.shape == (64, 80, 3)
    again = painting_upload(client, swirls, format="png", strength=0.8, model="arbitrary")
    assert np.array_equal(decoded(again.content), out)  # the cached statistics: same result
    assert client.get("/v1/models").json()["paintings"] is True


def test_bad_painting_uploads_get_one_line_400s(client):
    flat = encoded(np.full((80, 80, 3), 90, np.uint8))
    assert_error(painting_upload(client, flat), 400, "single flat colour")
    assert_error(painting_upload(client, encoded(picture(40, 200))), 400, "at least 64 px")
    assert_error(painting_upload(client, b"not an image at all"), 400, "not a readable image")
    assert_error(painting_upload(client, png_claiming(30_000, 30_000)), 413, "painting")
    assert_error(painting_upload(client, None, model="arbitrary"), 400, "painting")
    good = encoded(picture(96, 96, seed=5))
    assert_error(painting_upload(client, good, model=SINGLE), 400, "leave out model=")
    assert_error(painting_upload(client, good, transform="gram"), 400, "transform")
    assert_error(painting_upload(client, good, painting_size=10), 400, "painting_size")
    assert client.get("/healthz").status_code == 200  # the server keeps serving


def test_a_server_without_the_arbitrary_network_says_so(make_client):
    client = make_client(arbitrary=False)
    answer = painting_upload(client, encoded(picture(96, 96, seed=5)))
    assert_error(answer, 400, "takes no paintings")
    assert client.get("/v1/models").json()["paintings"] is False
