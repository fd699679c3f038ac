"""A real headless Chromium (Debian's package) driven by Playwright, for the HTML tests.

A missing browser skips those tests on a developer machine, but fails them under CI
(IMGSEARCH_REQUIRE_BROWSER=1, set by .ci/run, which installs Debian's chromium).
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager

import pytest

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("IMGSEARCH_REQUIRE_BROWSER") == "1":
        pytest.fail("Chromium is required for the HTML tests (apt-get install chromium)")
    pytest.skip("Chromium not installed")


@contextmanager
def page(width: int = 1200, height: int = 900):
    """A Playwright page in headless Chromium."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=executable, headless=True, args=FLAGS)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def loaded_images(tab) -> tuple[int, int]:
    """(images decoded with a real size, all images) on the page."""
    tab.wait_for_load_state("load")
    # every image finished (decoded or broken) before counting: decoding is asynchronous
    tab.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=15_000)
    return tab.evaluate("() => { const imgs = [...document.images];"
                        " return [imgs.filter(i => i.complete && i.naturalWidth > 0).length, imgs.length]; }")


def assert_screenshot_shows_photos(tab, path) -> None:
    """Save a screenshot and check it is not blank: many colours, not one flat background."""
    import numpy as np
    from PIL import Image

    tab.screenshot(path=str(path))
    pixels = np.asarray(Image.open(path).convert("RGB"))
    colours = len(np.unique(pixels.reshape(-1, 3)[::7], axis=0))
    assert pixels.std() > 20 and colours > 500, (pixels.std(), colours)
