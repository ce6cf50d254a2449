"""Where the editor plugs in: static front-end files are served by :func:`setup_frontend`.

The official front end (``comfyui-frontend-package``) is added here later: ``/`` with ``index.html``
(``Cache-Control: no-cache``), ``/assets``, ``/scripts``, ``/extensions/core``, ``/templates``, plus
graphflow's own JS extension, whose URL goes into ``ServerState.extension_scripts`` so that
``GET /extensions`` lists it. Static routes are registered bare (never under ``/api``). Until then ``/``
answers with a short page that points API users at the routes.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

INDEX_TEXT = """<!doctype html><meta charset="utf-8"><title>graphflow</title>
<p>graphflow is running. The ComfyUI-compatible API is at <code>/api/...</code>
(<a href="/api/object_info">/api/object_info</a>, <a href="/api/queue">/api/queue</a>);
the WebSocket is at <code>/ws</code>.</p>
"""


def setup_frontend(app: web.Application, static_dir: Path | None = None) -> None:
    """Register the front end's static routes on ``app`` (a placeholder page for now)."""

    async def index(request: web.Request) -> web.Response:
        return web.Response(text=INDEX_TEXT, content_type="text/html", headers={"Cache-Control": "no-cache"})

    app.router.add_get("/", index)
