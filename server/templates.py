"""graphflow's shipped workflows as the editor's templates (its "core" template browser entries).

The front end reads ``/templates/index.json`` (categories of templates), opens ``/templates/<name>.json``
and shows ``/templates/<name>-1.<mediaSubtype>`` as each card's picture. graphflow answers from its
``workflows/`` folder: editor-format files as they are, API-format files converted with
:func:`graphflow.workflow.api_to_editor` (so the editor can open them), and a picture of each graph drawn
as SVG from its node positions. ``index_logo.json`` and localized ``index.<lang>.json`` are answered too, so
browsing templates makes no failed requests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web

from graphflow.workflow import WorkflowError, api_to_editor, is_api_prompt, is_editor_workflow

from .state import STATE

log = logging.getLogger(__name__)

#: The repository's ``workflows/`` folder (present in a source checkout and an editable install).
SHIPPED_WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"
DEFAULT_TEMPLATE = "txt2img_editor"
CATEGORY = "graphflow"
THUMB_WIDTH, THUMB_HEIGHT = 400, 300
WORKFLOWS_DIR = web.AppKey("graphflow_workflows_dir", Path)

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_INDEX = re.compile(r"^index(\.[A-Za-z-]+)?\.json$")


def read_workflow(folder: Path, name: str) -> dict[str, Any] | None:
    """The parsed JSON of ``<folder>/<name>.json`` if it is an editor workflow or an API prompt."""
    if not _NAME.match(name) or name.startswith("."):
        return None
    path = folder / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if is_editor_workflow(data) or is_api_prompt(data) else None


def shipped_workflows(folder: Path) -> list[tuple[str, dict[str, Any]]]:
    """``(name, parsed JSON)`` of the workflows in ``folder`` the editor can open, the default one first."""
    if not folder.is_dir():
        return []
    found = [
        (p.stem, read_workflow(folder, p.stem))
        for p in sorted(folder.glob("*.json"), key=lambda p: p.stem)
        if p.is_file()
    ]
    return sorted(
        ((name, data) for name, data in found if data), key=lambda item: item[0] != DEFAULT_TEMPLATE
    )


def as_editor(data: dict[str, Any], node_defs: dict[str, Any]) -> dict[str, Any]:
    """An editor workflow for ``data`` (API prompts are converted)."""
    return data if is_editor_workflow(data) else api_to_editor(data, node_defs)


def _class_types(data: dict[str, Any]) -> list[str]:
    if is_editor_workflow(data):
        found = [n.get("type") for n in data["nodes"] if isinstance(n, dict)]
    else:
        found = [n["class_type"] for n in data.values()]
    return list(dict.fromkeys(t for t in found if isinstance(t, str)))


def template_index(folder: Path) -> list[dict[str, Any]]:
    """``/templates/index.json``: one category holding every shipped workflow."""
    entries = []
    for name, data in shipped_workflows(folder):
        kind = "editor workflow" if is_editor_workflow(data) else "API prompt"
        types = _class_types(data)
        entries.append(
            {
                "name": name,
                "title": name.replace("_", " ").capitalize(),
                "description": f"graphflow's workflows/{name}.json ({kind}): {', '.join(types)}",
                "mediaType": "image",
                "mediaSubtype": "svg",
                "tags": ["graphflow"],
                "models": ["graphflow-demo"],
            }
        )
    return [
        {
            "moduleName": "default",
            "title": CATEGORY,
            "type": "image",
            "category": "graphflow",
            "icon": "icon-[lucide--workflow]",
            "templates": entries,
        }
    ]


# -- thumbnails --------------------------------------------------------------------------------------------
def _pair(value: Any, default: tuple[float, float]) -> tuple[float, float]:
    if isinstance(value, dict):
        value = [value.get("0"), value.get("1")]
    try:
        return float(value[0]), float(value[1])
    except (TypeError, ValueError, IndexError, KeyError):
        return default


def thumbnail_svg(workflow: dict[str, Any]) -> str:
    """A picture of the graph: each node a box at its position with its title, each link a line."""
    boxes: dict[Any, tuple[float, float, float, float, str]] = {}
    for node in workflow.get("nodes", []):
        if not isinstance(node, dict):
            continue
        x, y = _pair(node.get("pos"), (0.0, 0.0))
        w, h = _pair(node.get("size"), (315.0, 100.0))
        boxes[node.get("id")] = (x, y, max(w, 1.0), max(h, 1.0), str(node.get("title") or node.get("type")))
    if not boxes:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{THUMB_WIDTH}" height="{THUMB_HEIGHT}"/>'
    left = min(b[0] for b in boxes.values()) - 20
    top = min(b[1] for b in boxes.values()) - 40
    width = max(b[0] + b[2] for b in boxes.values()) - left + 20
    height = max(b[1] + b[3] for b in boxes.values()) - top + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{THUMB_WIDTH}" height="{THUMB_HEIGHT}" '
        f'viewBox="{left:.0f} {top:.0f} {width:.0f} {height:.0f}" preserveAspectRatio="xMidYMid meet">',
        f'<rect x="{left:.0f}" y="{top:.0f}" width="{width:.0f}" height="{height:.0f}" fill="#202020"/>',
    ]
    for link in workflow.get("links") or []:
        if isinstance(link, list) and len(link) >= 5 and link[1] in boxes and link[3] in boxes:
            a, b = boxes[link[1]], boxes[link[3]]
            parts.append(
                f'<line x1="{a[0] + a[2]:.0f}" y1="{a[1] + 10:.0f}" x2="{b[0]:.0f}" y2="{b[1] + 10:.0f}" '
                'stroke="#8a8" stroke-width="6"/>'
            )
    for x, y, w, h, title in boxes.values():
        parts.append(
            f'<rect x="{x:.0f}" y="{y - 30:.0f}" width="{w:.0f}" height="{h + 30:.0f}" rx="8" '
            'fill="#353535" stroke="#555" stroke-width="3"/>'
            f'<text x="{x + 10:.0f}" y="{y - 8:.0f}" font-family="sans-serif" font-size="22" '
            f'fill="#ddd">{escape(title[:28])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


# -- routes --------------------------------------------------------------------------------------------
def setup_templates(app: web.Application, folder: Path | None = None) -> None:
    """Serve ``folder`` (default: the shipped ``workflows/``) under ``/templates`` (bare only)."""
    app[WORKFLOWS_DIR] = folder or SHIPPED_WORKFLOWS
    app.router.add_get("/templates/{file}", _template_file)


async def _template_file(request: web.Request) -> web.Response:
    folder = request.app[WORKFLOWS_DIR]
    file = request.match_info["file"]
    if _INDEX.match(file):
        return web.json_response(await asyncio.to_thread(template_index, folder), headers=_NO_CACHE)
    if file == "index_logo.json":
        return web.json_response({}, headers=_NO_CACHE)
    if file.endswith("-1.svg"):
        name, kind = file[: -len("-1.svg")], "svg"
    elif file.endswith(".json"):
        name, kind = file[: -len(".json")], "json"
    else:
        raise web.HTTPNotFound(text="No such template file.")
    data = await asyncio.to_thread(read_workflow, folder, name)
    if data is None:
        raise web.HTTPNotFound(text="No such template.")
    try:
        workflow = as_editor(data, await asyncio.to_thread(request.app[STATE].object_info))
    except WorkflowError as error:
        log.warning("template %s cannot be opened in the editor: %s", name, error)
        raise web.HTTPNotFound(text=f"That template cannot be opened in the editor: {error}") from None
    if kind == "json":
        return web.json_response(workflow, headers=_NO_CACHE)
    return web.Response(
        text=thumbnail_svg(workflow),
        content_type="image/svg+xml",
        headers={**_NO_CACHE, "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
    )


_NO_CACHE = {"Cache-Control": "no-cache"}
