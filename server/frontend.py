"""The official editor: ``comfyui-frontend-package`` served unmodified, plus graphflow's small extension.

:func:`setup_frontend` registers, bare (never under ``/api``):

- ``/`` → the package's ``index.html`` with ``Cache-Control: no-cache`` and a Content-Security-Policy that
  allows the page's own scripts (its one inline script by hash), ``data:``/``blob:`` images and the
  WebSocket back to this server, and nothing from other sites;
- the package's folders (``/assets``, ``/scripts``, ``/extensions/core``, ``/fonts``, ``/cursor``) and its
  top-level files; hashed ``/assets`` are cacheable for a year, the rest revalidate; ``.map`` files are
  never served (404);
- ``/user.css`` and ``/api/userdata/user.css`` (``index.html`` links both): the user's ``user.css`` or an
  empty stylesheet, so a fresh install loads without failed requests;
- ``/graphflow/web/*``: graphflow's extension (``server/web/``), listed first by ``GET /extensions``;
- the shipped workflows as editor templates (:mod:`.templates`).

It also pre-seeds the settings that keep a first start quiet (:data:`EDITOR_SETTINGS`). Without the
package, ``/`` answers with a short page saying how to install it.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from pathlib import Path
from typing import Any

from aiohttp import web

from graphflow.paths import UnsafePathError, resolve_inside

from . import templates
from .state import STATE
from .static_gzip import GzipCache, gzip_response

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent / "web"
EXTENSION_URL = "/graphflow/web/graphflow.js"
USER_FOLDERS = ("workflows", "subgraphs")
IMMUTABLE = "public, max-age=31536000, immutable"
#: Types Python's ``mimetypes`` may not know on every system.
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".wasm": "application/wasm",
    ".svg": "image/svg+xml",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".webp": "image/webp",
    ".html": "text/html",
    ".txt": "text/plain",
}
REVALIDATE = "no-cache"

#: Settings answered by ``GET /settings`` until the user changes them: no first-run template dialog, no
#: check for new releases (the only request the front end would make to another site), the welcome and
#: release notes already seen for this version.
EDITOR_SETTINGS: dict[str, Any] = {
    "Comfy.TutorialCompleted": True,
    "Comfy.Notification.ShowVersionUpdates": False,
    "Comfy.InstalledVersion": "1.58.1",
}

PLACEHOLDER = """<!doctype html><meta charset="utf-8"><title>graphflow</title>
<p>graphflow is running, but the editor is not installed. Install it into graphflow's environment with
<code>pip install comfyui-frontend-package==1.58.1</code> and restart <code>graphflow serve</code>.</p>
<p>The ComfyUI-compatible API is at <code>/api/...</code>
(<a href="/api/object_info">/api/object_info</a>, <a href="/api/queue">/api/queue</a>);
the WebSocket is at <code>/ws</code>.</p>
"""

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def find_static_dir() -> Path | None:
    """The ``static/`` folder of the installed ``comfyui_frontend_package``, or None when it is absent."""
    try:
        import comfyui_frontend_package
    except ImportError:
        return None
    static = Path(comfyui_frontend_package.__file__).resolve().parent / "static"
    return static if (static / "index.html").is_file() else None


def content_security_policy(index_html: bytes) -> str:
    """The policy for the editor page: its own files, its inline script(s) by hash, and this server only."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(index_html)
    )
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'wasm-unsafe-eval' {hashes}".strip(),
            "style-src 'self' 'unsafe-inline'",  # Vue and PrimeVue set style attributes and <style> tags
            "img-src 'self' data: blob:",
            "media-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",  # covers ws:// and wss:// to this host
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        ]
    )


def setup_frontend(
    app: web.Application, static_dir: Path | None = None, workflows_dir: Path | None = None
) -> None:
    """Register the editor's routes on ``app``.

    ``static_dir`` overrides the installed package's folder; ``workflows_dir`` the shipped workflows.
    """
    static = static_dir or find_static_dir()
    state = app[STATE]
    for key, value in EDITOR_SETTINGS.items():
        state.config.settings_defaults.setdefault(key, value)
    if EXTENSION_URL not in state.extension_scripts:
        state.extension_scripts.insert(0, EXTENSION_URL)
    templates.setup_templates(app, workflows_dir)
    app.router.add_get("/graphflow/web/{path:.+}", _file_handler(WEB_DIR, REVALIDATE))
    app.router.add_get("/user.css", _user_file("user.css", "", "text/css"))
    app.router.add_get("/api/userdata/user.css", _user_file("user.css", "", "text/css"))
    app.router.add_get(
        "/api/userdata/comfy.templates.json", _user_file("comfy.templates.json", "[]", "application/json")
    )
    app.on_startup.append(_make_user_folders)
    if static is None:
        log.warning("comfyui-frontend-package is not installed; / shows a page saying how to install it")
        app.router.add_get("/", _placeholder)
        return

    index_html = (static / "index.html").read_bytes()
    headers = {
        "Cache-Control": REVALIDATE,
        "Content-Security-Policy": content_security_policy(index_html),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }

    async def index(request: web.Request) -> web.Response:
        if "token" in request.query:  # the security middleware checked it and sets the cookie
            rest = {k: v for k, v in request.query.items() if k != "token"}
            location = str(request.rel_url.with_query(rest)) if rest else request.path
            return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})
        return web.Response(body=index_html, content_type="text/html", charset="utf-8", headers=headers)

    app.router.add_get("/", index)
    app.router.add_get("/index.html", index)
    for entry in sorted(static.iterdir()):
        if entry.name == "index.html":
            continue
        if entry.name == "extensions" and entry.is_dir():
            # one route per folder (``/extensions/core/...``), more specific than the packs' route
            for folder in sorted(p for p in entry.iterdir() if p.is_dir()):
                app.router.add_get(
                    f"/extensions/{folder.name}/{{path:.+}}", _file_handler(folder, REVALIDATE)
                )
        elif entry.is_dir():
            if entry.name == "assets":  # hashed names: cached by browsers, gzipped once here
                app.router.add_get("/assets/{path:.+}", _file_handler(entry, IMMUTABLE, GzipCache()))
            else:
                app.router.add_get(f"/{entry.name}/{{path:.+}}", _file_handler(entry, REVALIDATE))
        elif entry.is_file() and not entry.name.endswith(".map"):
            app.router.add_get(f"/{entry.name}", _one_file(entry))


def _file_handler(root: Path, cache_control: str, gzip_cache: GzipCache | None = None):
    """A handler serving files below ``root`` (``{path}``), refusing traversal and source maps."""

    async def handler(request: web.Request) -> web.StreamResponse:
        relative = request.match_info["path"]
        if relative.endswith(".map"):
            raise web.HTTPNotFound(text="Source maps are not served.")
        try:
            path = resolve_inside(root, relative)
        except UnsafePathError as error:
            raise web.HTTPForbidden(text=f"That path is not allowed: {error}") from None
        if not path.is_file():
            raise web.HTTPNotFound(text="No such file.")
        headers = _file_headers(path, cache_control)
        if gzip_cache is not None and gzip_cache.wanted(request, path):
            headers.setdefault("Content-Type", "application/octet-stream")
            return await gzip_response(gzip_cache, path, headers)
        return web.FileResponse(path, headers=headers)

    return handler


def _file_headers(path: Path, cache_control: str) -> dict[str, str]:
    headers = {"Cache-Control": cache_control, "X-Content-Type-Options": "nosniff"}
    content_type = CONTENT_TYPES.get(path.suffix.lower())
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers


def _one_file(path: Path):
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(path, headers=_file_headers(path, REVALIDATE))

    return handler


def _user_file(name: str, empty: str, content_type: str):
    """A handler for a user file the editor always asks for: the file if the user has one, else ``empty``.

    ``index.html`` links ``user.css``; the editor reads ``comfy.templates.json`` (saved node groups) on load.
    """

    async def handler(request: web.Request) -> web.StreamResponse:
        path = request.app[STATE].user_dir / name
        if path.is_file():
            return web.FileResponse(path, headers={"Cache-Control": REVALIDATE, "Content-Type": content_type})
        return web.Response(text=empty, content_type=content_type, headers={"Cache-Control": REVALIDATE})

    return handler


async def _make_user_folders(app: web.Application) -> None:
    """The folders the editor lists on load (saved workflows and subgraphs), so a fresh install has them."""
    for name in USER_FOLDERS:
        (app[STATE].user_dir / name).mkdir(parents=True, exist_ok=True)


async def _placeholder(request: web.Request) -> web.Response:
    return web.Response(text=PLACEHOLDER, content_type="text/html", headers={"Cache-Control": "no-cache"})
