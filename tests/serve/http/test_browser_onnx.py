"""The onnxruntime-web page (``/browser``) in headless Chromium: it downloads the model from
``/v1/models/{name}/onnx`` and its output matches ONNX Runtime in Python on the same input."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image

from stylenet.serve.http.app import NPM_COMMAND, ORT_DIST
from stylenet.styles import weights_from_blend
from tests.serve.http.browser import browser_page, chromium_missing
from tests.serve.http.helpers import MULTI, SINGLE, Server, have_models, picture

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not have_models(), reason="shipped models are not installed"),
    pytest.mark.skipif(chromium_missing() is not None, reason=str(chromium_missing())),
]
needs_assets = pytest.mark.skipif(
    not (ORT_DIST / "ort.wasm.min.js").is_file(),
    reason=f"onnxruntime-web assets are not installed ({NPM_COMMAND})",
)
TOLERANCE = 0.05  # max |browser - Python| on the 0-255 scale (the export parity tolerance)


def python_ort(served, pixels: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    session = ort.InferenceSession(str(served.path), providers=["CPUExecutionProvider"])
    feed = {"image": pixels[None]}
    if len(session.get_inputs()) == 2:
        feed["style_weights"] = weights[None].astype(np.float32)
    return session.run(None, feed)[0][0]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("browser"), f"models=[{SINGLE},{MULTI}]")
    yield running
    running.stop()


@needs_assets
def test_browser_output_matches_python_onnx_runtime(server, served_models):
    height, width = 40, 56
    pixels = picture(height, width).astype(np.float32).transpose(2, 0, 1).copy()
    blend = weights_from_blend(served_models[MULTI].styles, {"wave": 0.6, "udnie": 0.4})
    with browser_page() as page:
        page.goto(server.url + "/browser?backend=wasm")
        page.wait_for_function("document.body.dataset.ready !== undefined", timeout=60_000)
        assert page.evaluate("document.body.dataset.ready") == "true", page.text_content("#status")
        assert page.evaluate("window.stylenetBrowser.backend()") == "wasm"
        for name, weights in ((SINGLE, None), (MULTI, blend)):
            expected = python_ort(served_models[name], pixels, weights)
            got = page.evaluate(
                "([name, pixels, h, w, weights]) => "
                "window.stylenetBrowser.runPixels(name, pixels, h, w, weights)",
                [
                    name,
                    pixels.ravel().tolist(),
                    height,
                    width,
                    None if weights is None else weights.tolist(),
                ],
            )
            got = np.asarray(got, dtype=np.float32).reshape(expected.shape)
            assert np.abs(got - expected).max() < TOLERANCE, name
        assert not page.errors, page.errors


@needs_assets
def test_browser_page_stylizes_an_uploaded_photo(server, tmp_path):
    photo = tmp_path / "photo.png"
    Image.fromarray(picture(60, 80)).save(photo)
    with browser_page() as page:
        page.goto(server.url + "/browser?backend=wasm")
        page.wait_for_function("document.body.dataset.ready === 'true'", timeout=60_000)
        page.set_input_files("#file", str(photo))
        page.wait_for_function(
            "document.getElementById('output').dataset.runs === '1'", timeout=60_000
        )
        size = page.evaluate("[output.width, output.height]")
        assert size == [80, 60]
        assert "wasm" in page.text_content("#output-caption")
        assert not page.errors, page.errors


def test_missing_assets_are_reported_on_the_page(tmp_path, monkeypatch):
    """Without the npm assets the page says how to install them (and the server says so too)."""
    import httpx

    server = Server(
        tmp_path, f"models=[{SINGLE}]", env={"STYLENET_ORT_DIST": str(tmp_path / "none")}
    )
    try:
        answer = httpx.get(f"{server.url}/static/ort/ort.wasm.min.js")
        assert answer.status_code == 404 and NPM_COMMAND in answer.json()["error"]
        with browser_page() as page:
            page.goto(server.url + "/browser?backend=wasm")
            page.wait_for_function("document.body.dataset.ready === 'false'", timeout=60_000)
            assert NPM_COMMAND in page.text_content("#missing")
            assert page.is_visible("#missing")
    finally:
        server.stop()
