"""The page at ``/`` in headless Chromium: upload a photo, see it stylized, move a blend slider.

``STYLENET_SCREENSHOT=docs/serve.png`` also saves the page (the README's screenshot).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from stylenet.resources import shared_data_dir
from tests.serve.http.browser import browser_page, chromium_missing
from tests.serve.http.helpers import MULTI, SINGLE, Server, have_models, picture

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not have_models(), reason="shipped models are not installed"),
    pytest.mark.skipif(chromium_missing() is not None, reason=str(chromium_missing())),
]

RESULT_PIXELS = """() => {
  const img = document.getElementById('result');
  const canvas = document.createElement('canvas');
  canvas.width = 16; canvas.height = 16;
  const context = canvas.getContext('2d');
  context.drawImage(img, 0, 0, 16, 16);
  return Array.from(context.getImageData(0, 0, 16, 16).data);
}"""
PHOTO_WIDTH = 480  # the uploaded photo's width: the full-size result's too
PREVIEW_SIDE = 384  # app.js: previews are stylized on a copy this long


def photo_file(folder: Path) -> Path:
    """A 480 px wide photo: a COCO one when the shared data is here (a nicer screenshot), else a
    synthetic one (wider than the page's 384 px preview either way)."""
    coco = sorted(Path(shared_data_dir("coco/val2017")).glob("*.jpg"))[:1]
    target = folder / "photo.jpg"
    if coco:
        with Image.open(coco[0]) as img:
            img.convert("RGB").resize(
                (PHOTO_WIDTH, round(PHOTO_WIDTH * img.height / img.width))
            ).save(target)
    else:
        Image.fromarray(picture(360, PHOTO_WIDTH)).save(target)
    return target


def wait_for_result(page, count: int) -> None:
    page.wait_for_function(
        f"Number(document.getElementById('result').dataset.requests) >= {count}", timeout=60_000
    )
    assert not page.locator("#status").evaluate("e => e.classList.contains('error')"), page.locator(
        "#status"
    ).text_content()


def test_upload_stylize_and_blend(tmp_path):
    server = Server(tmp_path, f"models=[{MULTI},{SINGLE}]", "intra_op_threads=1")
    try:
        with browser_page() as page:
            page.goto(server.url + "/")
            # the two models, then "any painting" (the arbitrary-style network)
            page.wait_for_function("document.querySelectorAll('#model option').length === 3")
            assert page.locator("input.blend").count() == 7  # multi_style comes first
            page.set_input_files("#file", str(photo_file(tmp_path)))
            wait_for_result(page, 1)
            assert page.locator("#result").evaluate("img => img.naturalWidth") == PREVIEW_SIDE
            assert page.locator("#result").get_attribute("data-kind") == "preview"
            before = page.evaluate(RESULT_PIXELS)

            page.locator('input.blend[data-style="starry_night"]').fill("0")
            page.locator('input.blend[data-style="wave"]').fill("100")
            wait_for_result(page, 2)
            after = page.evaluate(RESULT_PIXELS)
            change = sum(abs(a - b) for a, b in zip(before, after, strict=True)) / len(before)
            assert change > 5, f"moving the blend sliders changed the result by only {change:.1f}"

            page.click("#full")
            wait_for_result(page, 3)
            assert page.locator("#result").get_attribute("data-kind") == "full size"
            assert page.locator("#result").evaluate("img => img.naturalWidth") == PHOTO_WIDTH
            assert page.locator("#download").get_attribute("href").startswith("blob:")
            page.screenshot(path=str(tmp_path / "serve.png"))
            if os.environ.get("STYLENET_SCREENSHOT"):
                page.screenshot(path=os.environ["STYLENET_SCREENSHOT"])
            assert not page.errors, page.errors
    finally:
        server.stop()


def test_live_webcam_mode_streams_frames(tmp_path):
    """Chromium's fake camera → WS /v1/live → stylized frames and an FPS counter."""
    server = Server(tmp_path, f"models=[{SINGLE}]", "intra_op_threads=1", "live_side=160")
    try:
        with browser_page() as page:
            page.goto(server.url + "/")
            page.wait_for_function("document.querySelectorAll('#model option').length === 2")
            page.click("#live-start")
            wait_for_result(page, 3)
            assert page.locator("#result").get_attribute("data-kind") == "live"
            page.wait_for_function("/FPS/.test(document.getElementById('fps').textContent)")
            page.click("#live-stop")
            assert not page.errors, page.errors
    finally:
        server.stop()


def test_any_painting_uploaded_on_the_page(tmp_path):
    """Choose "any painting", upload a photo and a painting, then another painting."""
    server = Server(tmp_path, f"models=[{SINGLE}]", "intra_op_threads=1")
    paintings = []
    for seed, flip in ((3, False), (4, True)):
        image = picture(160, 160, seed=seed)
        image = image[..., ::-1].copy() if flip else 255 - image
        paintings.append(tmp_path / f"painting{seed}.png")
        Image.fromarray(image).save(paintings[-1])
    try:
        with browser_page() as page:
            page.goto(server.url + "/")
            page.wait_for_function("document.querySelectorAll('#model option').length === 2")
            page.select_option("#model", "arbitrary")
            assert page.locator("#painting-row").is_visible()
            assert page.locator("#live-start").is_disabled()
            page.set_input_files("#file", str(photo_file(tmp_path)))
            page.wait_for_function(
                "/Choose a painting/.test(document.getElementById('status').textContent)"
            )
            page.set_input_files("#painting-file", str(paintings[0]))
            wait_for_result(page, 1)
            first = page.evaluate(RESULT_PIXELS)
            page.set_input_files("#painting-file", str(paintings[1]))
            wait_for_result(page, 2)
            second = page.evaluate(RESULT_PIXELS)
            change = sum(abs(a - b) for a, b in zip(first, second, strict=True)) / len(first)
            assert change > 3, f"another painting changed the result by only {change:.1f}"
            assert not page.errors, page.errors
    finally:
        server.stop()
