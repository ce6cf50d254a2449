"""The official editor in real Chromium against a real ``graphflow serve``: it loads cleanly, lists
graphflow's nodes, opens on graphflow's txt2img workflow and runs it on the demo model."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.server.process import REPO

from .editor import fit_view, graph_types, open_editor, run_and_wait_for_image, titles

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DEFAULT_WORKFLOW = REPO / "workflows" / "txt2img_editor.json"
FIRST_RESULT_IS = """(title) => {
  const first = document.querySelector('[role="option"]');
  return first !== null && first.innerText.split("\\n")[0].trim() === title;
}"""


def test_editor_loads_cleanly_and_lists_graphflows_nodes(editor_server, new_page, screenshot):
    page, watch = new_page(editor_server.url)
    open_editor(page, editor_server.url + "/")
    page.wait_for_load_state("networkidle")

    with urllib.request.urlopen(editor_server.url + "/api/object_info") as response:
        server_types = set(json.load(response))
    registered = set(page.evaluate("() => Object.keys(window.LiteGraph.registered_node_types)"))
    assert server_types <= registered, f"missing in the editor: {sorted(server_types - registered)}"

    # add one of graphflow's own nodes through the node search (double-click on empty canvas)
    before = graph_types(page)
    page.mouse.dblclick(700, 700)
    page.keyboard.type("AttentionHeatMap", delay=20)
    # Enter adds the highlighted (first) result; the list filters as you type, so wait until the full
    # query has ranked our node first (after "Atten" it is second, behind Attention Refine)
    page.wait_for_function(FIRST_RESULT_IS, arg="Attention Heat Map")
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.app.graph.nodes.some((n) => n.type === 'AttentionHeatMap')")
    assert sorted(graph_types(page)) == sorted([*before, "AttentionHeatMap"])

    screenshot(page, "editor_loaded")
    assert watch.problems() == []


def test_default_graph_is_txt2img_and_runs_on_the_demo_model(editor_server, new_page, screenshot):
    page, watch = new_page(editor_server.url)
    open_editor(page, editor_server.url + "/")
    expected = json.loads(DEFAULT_WORKFLOW.read_text())
    assert sorted(graph_types(page)) == sorted(node["type"] for node in expected["nodes"])
    assert page.get_by_role("button", name="Run", exact=True).is_enabled()

    image = run_and_wait_for_image(page)

    assert "/api/view?" in image["src"] and "type=output" in image["src"], image
    assert image["width"] == 128  # the workflow's EmptyLatentImage size
    seen = titles(page)
    assert any("KSampler" in title and "%]" in title for title in seen), seen  # progress was shown
    outputs = sorted((editor_server.base / "output").glob("*.png"))
    assert outputs and outputs[0].name in image["src"]
    fit_view(page)
    screenshot(page, "txt2img_run")
    assert watch.problems() == []


def test_template_browser_lists_and_opens_the_shipped_workflows(editor_server, new_page, screenshot):
    page, watch = new_page(editor_server.url)
    open_editor(page, editor_server.url + "/")
    page.evaluate("() => window.app.extensionManager.command.execute('Comfy.BrowseTemplates')")
    page.get_by_text("Txt2img editor", exact=True).wait_for()
    loaded = """() => [...document.querySelectorAll('[role="dialog"] img')]
      .filter((img) => img.complete).map((img) => img.naturalWidth)"""
    page.wait_for_function(f"() => ({loaded})().filter((width) => width > 0).length >= 4")
    # the pictures are fetched from /templates/<name>-1.svg into blob: URLs; later cards load lazily
    assert 0 not in page.evaluate(loaded)
    screenshot(page, "templates")

    # img2img.json is API format: the server converts it so the editor can open it
    page.get_by_text("Img2img", exact=True).first.click()
    prompt = json.loads((REPO / "workflows" / "img2img.json").read_text())
    page.wait_for_function("() => window.app.graph.nodes.some((n) => n.type === 'VAEEncode')")
    assert sorted(graph_types(page)) == sorted(node["class_type"] for node in prompt.values())
    assert watch.problems() == []
