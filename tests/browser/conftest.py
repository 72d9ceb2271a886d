"""Fixtures for browser tests: the test app over real HTTP, and Chromium through Playwright.

Playwright's own browser download does not work on our machines, so the tests drive the
system Chromium at /usr/bin/chromium; without it they fail with a message, never skip.
"""

import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
# Without the networking flags Chromium keeps calling home, into a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The test's app served on 127.0.0.1 at a port the OS picks; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Browser tests need Debian's Chromium at {CHROMIUM} "
            "(apt-get install chromium); Playwright's browser download is not used here.",
            pytrace=False,
        )
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def new_context(browser) -> Iterator[Callable[..., BrowserContext]]:
    """Open a browser context with the given options; every one is closed after the test."""
    contexts: list[BrowserContext] = []

    def open_context(**options) -> BrowserContext:
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context) -> Page:
    return new_context().new_page()


def save_screenshot(page: Page, test_name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/screenshots/<test-name>-<width>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    safe_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", test_name).strip("-")
    path = SCREENSHOTS / f"{safe_name}-{page.viewport_size['width']}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def screenshot(request) -> Callable[..., Path]:
    """`screenshot(page, "article")` saves <this test's name>-article-<width>.png."""

    def take(page: Page, label: str = "") -> Path:
        name = request.node.originalname + (f"-{label}" if label else "")
        return save_screenshot(page, name)

    return take
