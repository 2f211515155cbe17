"""Headless Chromium for the browser tests: Debian's ``/usr/bin/chromium`` driven by
Playwright (no downloaded browsers), skipped with a reason when either is missing."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("STYLENET_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here (``None`` if they can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    if not (CHROMIUM.is_file() or shutil.which(str(CHROMIUM))):
        return f"no chromium at {CHROMIUM} (apt-get install -y chromium)"
    return None


@contextmanager
def browser_page(viewport=(1280, 820)):
    """A fresh page in headless Chromium; console errors are collected in ``page.errors``."""
    reason = chromium_missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
            page.errors = []
            page.on("pageerror", lambda error: page.errors.append(str(error)))
            yield page
        finally:
            browser.close()
