"""What the browser tests do with the editor: watch a page for errors, open the editor, run, find images."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from typing import Any

# How the project starts Debian's Chromium (tests and bench/bench_editor.py alike).
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
GRAPH_READY = "() => (window.app?.graph?.nodes?.length ?? 0) > 0"
SAVE_IMAGES = """() => {
  const node = window.app.graph.nodes.find((n) => n.type === "SaveImage");
  return (node?.imgs ?? []).map((img) => ({ src: img.src, width: img.naturalWidth }));
}"""
IMAGE_READY = f"() => ({SAVE_IMAGES})().some((img) => img.width > 0)"
# Collects every document title while the page lives: the editor puts the running node and its progress
# there ("[40%] KSampler"), from the same progress_state messages that draw the running outline.
RECORD_TITLES = """() => {
  window.__titles = [document.title];
  new MutationObserver(() => window.__titles.push(document.title))
    .observe(document.querySelector("title"), { childList: true, characterData: true, subtree: true });
}"""


def chromium_path() -> str | None:
    """``$GRAPHFLOW_CHROMIUM``, else ``chromium`` on the PATH, else None."""
    return os.environ.get("GRAPHFLOW_CHROMIUM") or shutil.which("chromium")


@dataclass
class PageWatch:
    """Console errors, uncaught exceptions, failed requests to ``server_url`` and requests anywhere else."""

    page: Any
    server_url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        self.page.on("requestfailed", self._request_failed)
        self.page.on("response", self._response)
        self.page.on("request", self._request)

    def _console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def _ours(self, url: str) -> bool:
        return url.startswith(self.server_url)

    def _request(self, request) -> None:
        if not self._ours(request.url) and not request.url.startswith(("blob:", "data:")):
            self.external.append(f"{request.method} {request.url}")  # the editor must stay on this machine

    def _request_failed(self, request) -> None:
        if self._ours(request.url):
            self.failed.append(f"{request.method} {request.url}: {request.failure}")

    def _response(self, response) -> None:
        if self._ours(response.url) and response.status >= 400:
            self.failed.append(f"{response.request.method} {response.url}: {response.status}")

    def problems(self) -> list[str]:
        return [*self.console_errors, *self.page_errors, *self.failed, *self.external]


def open_editor(page, url: str) -> None:
    """Navigate and wait until the canvas shows a graph."""
    page.goto(url)
    page.wait_for_selector("canvas#graph-canvas")
    page.wait_for_function(GRAPH_READY)


def graph_types(page) -> list[str]:
    return page.evaluate("() => window.app.graph.nodes.map((n) => n.type)")


def set_widget(page, node_type: str, widget: str, value: Any) -> None:
    page.evaluate(
        """([type, name, value]) => {
          const node = window.app.graph.nodes.find((n) => n.type === type);
          node.widgets.find((w) => w.name === name).value = value;
        }""",
        [node_type, widget, value],
    )


def run_and_wait_for_image(page, timeout_ms: int = 120_000) -> dict[str, Any]:
    """Press Run and wait until the Save node shows a loaded image; returns that image's src and width."""
    page.evaluate(RECORD_TITLES)
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function(IMAGE_READY, timeout=timeout_ms, polling=100)
    return next(img for img in page.evaluate(SAVE_IMAGES) if img["width"] > 0)


def titles(page) -> list[str]:
    return page.evaluate("() => window.__titles ?? []")


def fit_view(page) -> None:
    """Frame the whole graph (the editor's "." shortcut), for screenshots."""
    page.mouse.click(700, 850)
    page.keyboard.press(".")
