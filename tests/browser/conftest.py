"""Browser fixtures: Debian's Chromium driven by Playwright, and a real ``graphflow serve`` process.

Chromium is the system package (``apt-get install chromium``), never a Playwright download. Without it the
tests are skipped with the reason; in CI (``GRAPHFLOW_CI=1``) the root conftest turns that into a failure.
Screenshots go to ``test-artifacts/browser/`` (or ``$GRAPHFLOW_TEST_ARTIFACTS/browser``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.server.process import REPO, ServerProcess

from .editor import LAUNCH_ARGS, PageWatch, chromium_path

DEMO_CHECKPOINT = REPO / "graphflow" / "data" / "checkpoints" / "graphflow-demo.safetensors"
ARTIFACTS = Path(os.environ.get("GRAPHFLOW_TEST_ARTIFACTS") or REPO / "test-artifacts") / "browser"


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module (closed before the next module's event loops run)."""
    path = chromium_path()
    if path is None:
        pytest.skip("Chromium is not installed: the browser tests need Debian's `apt-get install chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """``new_page(server_url) -> (page, watch)``: a fresh profile each time, watched for errors."""
    contexts = []

    def make(server_url: str):
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(60_000)
        return page, PageWatch(page, server_url)

    yield make
    for context in contexts:
        context.close()


def demo_server(base: Path, args: tuple[str, ...] = ()) -> ServerProcess:
    if not DEMO_CHECKPOINT.is_file():
        pytest.skip(f"the demo checkpoint is missing: {DEMO_CHECKPOINT}")
    return ServerProcess(base, args, test_nodes=False)


@pytest.fixture(scope="module")
def editor_server(tmp_path_factory):
    """``graphflow serve`` on 127.0.0.1 over a fresh base directory, with the demo model found by default."""
    server = demo_server(tmp_path_factory.mktemp("editor") / "base")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    """The same, with ``--require-token``: every request needs the access token (as beyond loopback)."""
    server = demo_server(tmp_path_factory.mktemp("token") / "base", ("--require-token",))
    yield server
    server.stop()


@pytest.fixture
def screenshot():
    """``screenshot(page, name)`` saves ``<artifacts>/<name>.png``."""

    def save(page, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    return save
