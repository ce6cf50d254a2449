"""Editor figures in Debian's Chromium against a real ``graphflow serve`` process. Prints, asserts nothing.

    python bench/bench_editor.py [--runs 3]

- cold load: a fresh browser profile, navigation → the canvas shows the default graph (ms), then the
  requests and bytes the page fetched from the server until the network is idle
- warm load: the same profile navigating again (hashed assets come from the browser cache)
- run: Run → the output image loaded on the Save node (first run loads the demo model; then a cached re-run)
- package: what ``comfyui-frontend-package`` holds and how much of it (source maps) is never served
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_server import Server
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root, for tests.browser

from tests.browser.editor import GRAPH_READY, IMAGE_READY, LAUNCH_ARGS, chromium_path

BIG_TIMING_BUFFER = "performance.setResourceTimingBufferSize(5000)"  # the default keeps only 250 entries
TRAFFIC = """() => {
  const entries = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]
    .filter((e) => e.name.startsWith(location.origin));
  return {
    requests: entries.length,
    cached: entries.filter((e) => e.transferSize === 0).length,
    bytes: entries.reduce((sum, e) => sum + e.transferSize, 0),
  };
}"""


def traffic(page) -> dict:
    """Requests to the server since navigation, how many the browser cache answered, bytes on the wire."""
    return page.evaluate(TRAFFIC)


def load(page, url: str) -> tuple[float, float]:
    """(ms to the default graph on the canvas, ms until the network is idle)."""
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_function(GRAPH_READY, timeout=120_000)
    ready = time.perf_counter()
    page.wait_for_load_state("networkidle")
    return (ready - start) * 1000, (time.perf_counter() - start) * 1000


def run(page) -> float:
    start = time.perf_counter()
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function(IMAGE_READY, timeout=300_000, polling=50)
    return (time.perf_counter() - start) * 1000


def package_figures() -> None:
    from graphflow.server.frontend import find_static_dir

    static = find_static_dir()
    if static is None:
        print("package: comfyui-frontend-package is not installed")
        return
    files = [p for p in static.rglob("*") if p.is_file()]
    maps = [p for p in files if p.name.endswith(".map")]
    size = sum(p.stat().st_size for p in files) / 2**20
    map_size = sum(p.stat().st_size for p in maps) / 2**20
    print(
        f"package: {len(files)} files, {size:.1f} MiB; {len(maps)} source maps ({map_size:.1f} MiB) never served"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="cold loads to measure (default 3)")
    args = parser.parse_args()
    chromium = chromium_path()
    if chromium is None:
        raise SystemExit("Chromium is not installed (Debian: apt-get install chromium)")
    package_figures()
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "base")
        url = server.url + "/"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS)
                cold = []
                for _ in range(args.runs):
                    context = browser.new_context(viewport={"width": 1400, "height": 900})
                    context.add_init_script(BIG_TIMING_BUFFER)
                    page = context.new_page()
                    cold.append((*load(page, url), traffic(page)))
                    context.close()
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                context.add_init_script(BIG_TIMING_BUFFER)
                page = context.new_page()
                load(page, url)
                warm = load(page, url)
                warm_traffic = traffic(page)
                print(
                    f"cold load, navigation → default graph on the canvas: median "
                    f"{statistics.median(c[0] for c in cold):.0f} ms (runs: {', '.join(f'{c[0]:.0f}' for c in cold)})"
                )
                print(
                    f"cold load, until the network is idle: median {statistics.median(c[1] for c in cold):.0f} ms"
                )
                sent = cold[-1][2]
                print(
                    f"cold load transfer: {sent['requests']} requests, {sent['bytes'] / 2**20:.1f} MiB on the wire"
                )
                print(
                    f"warm load (same profile): {warm[0]:.0f} ms to the canvas; {warm_traffic['requests']} requests, "
                    f"{warm_traffic['cached']} from the browser cache, {warm_traffic['bytes'] / 2**20:.2f} MiB on the wire"
                )
                first = run(page)
                again = run(page)
                print(
                    f"Run → image on the Save node: first {first:.0f} ms (loads the demo model), cached re-run {again:.0f} ms"
                )
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
