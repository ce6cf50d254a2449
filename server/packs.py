"""What node packs contribute to the front end: JS files, example workflows and translations.

JS files (``WEB_DIRECTORY``) are found by :mod:`graphflow.plugins.web`; example workflows and
``locales/`` are read from a loaded pack's folder (its ``PackStatus.source``, when that is a directory).
All file access goes through :func:`graphflow.paths.resolve_inside`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from graphflow.paths import UnsafePathError, resolve_inside
from graphflow.registry import NodeRegistry, PackStatus

from .bodies import fail, path_errors
from .routing import API_PREFIX
from .state import STATE

log = logging.getLogger(__name__)

TEMPLATE_FOLDERS = ("example_workflows", "example", "examples", "workflow", "workflows")
LOCALE_FILES = {"nodeDefs": "nodeDefs.json", "commands": "commands.json", "settings": "settings.json"}


def pack_folder(pack: PackStatus) -> Path | None:
    """The folder of a loaded, non-built-in pack (a pack that failed to load contributes nothing)."""
    folder = Path(pack.source)
    return folder if pack.loaded and pack.kind != "builtin" and folder.is_dir() else None


def workflow_templates(registry: NodeRegistry) -> dict[str, list[str]]:
    """``{pack: [template names]}`` from each pack's example-workflow folder."""
    found: dict[str, list[str]] = {}
    for pack in registry.packs:
        folder = _template_folder(pack)
        if folder is not None:
            names = sorted(p.stem for p in folder.glob("*.json") if p.is_file())
            if names:
                found[pack.name] = names
    return found


def _template_folder(pack: PackStatus) -> Path | None:
    base = pack_folder(pack)
    if base is None:
        return None
    for name in TEMPLATE_FOLDERS:
        if (base / name).is_dir():
            return base / name
    return None


def translations(registry: NodeRegistry) -> dict[str, Any]:
    """Packs' ``locales/<lang>/{main,nodeDefs,commands,settings}.json`` merged per language."""
    merged: dict[str, dict[str, Any]] = {}
    for pack in registry.packs:
        base = pack_folder(pack)
        locales = base / "locales" if base else None
        if locales is None or not locales.is_dir():
            continue
        for lang_dir in sorted(p for p in locales.iterdir() if p.is_dir()):
            lang = merged.setdefault(lang_dir.name, {})
            _deep_merge(lang, _read_json(lang_dir / "main.json"))
            for key, filename in LOCALE_FILES.items():
                data = _read_json(lang_dir / filename)
                if data:
                    _deep_merge(lang.setdefault(key, {}), data)
    return merged


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        log.warning("ignoring translation file %s: %s", path, error)
        return {}
    return data if isinstance(data, dict) else {}


def _deep_merge(into: dict[str, Any], data: dict[str, Any]) -> None:
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = value


# -- routes -------------------------------------------------------------------------------------------
static_routes = web.RouteTableDef()  # bare only: static files are never under /api
template_routes = web.RouteTableDef()


def _pack(registry: NodeRegistry, name: str) -> PackStatus:
    for pack in registry.packs:
        if pack.name == name:
            return pack
    fail(404, "not_found", f"No node pack named {name!r}.")


@static_routes.get("/extensions/{pack}/{path:.+}")
@path_errors
async def extension_file(request: web.Request) -> web.StreamResponse:
    from graphflow.plugins.web import extension_file as find

    registry = request.app[STATE].runtime.registry
    path = find(registry, request.match_info["pack"], request.match_info["path"])
    if path is None:
        fail(404, "not_found", "No such file in that pack's web folder.")
    return web.FileResponse(path)


@template_routes.get(API_PREFIX + "/workflow_templates/{pack}/{name}")
@path_errors
async def template_file(request: web.Request) -> web.StreamResponse:
    registry = request.app[STATE].runtime.registry
    folder = _template_folder(_pack(registry, request.match_info["pack"]))
    name = request.match_info["name"]
    if folder is None or not name.endswith(".json"):
        fail(404, "not_found", "No such template.")
    try:
        path = resolve_inside(folder, name)
    except UnsafePathError as error:
        fail(403, "forbidden", str(error))
    if not path.is_file():
        fail(404, "not_found", "No such template.")
    return web.FileResponse(path, headers={"Content-Type": "application/json"})
