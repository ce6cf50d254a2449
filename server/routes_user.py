"""Per-user state: ``/settings``, ``/users`` and the ``/userdata`` file routes (saved workflows).

graphflow runs single-user: everything lives in ``<base>/user/default/``, and every path a request names
is checked by :func:`graphflow.paths.resolve_inside` against that folder. The queue database and the access
token live one level up, out of reach of these routes.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from aiohttp import web

from graphflow.paths import UnsafePathError, resolve_inside

from .bodies import fail, path_errors, query_bool, read_json, read_json_object
from .state import STATE, ServerState

routes = web.RouteTableDef()

SETTINGS_FILE = "comfy.settings.json"


# -- settings -----------------------------------------------------------------------------------------
def _stored_settings(state: ServerState) -> dict[str, Any]:
    try:
        stored = json.loads((state.user_dir / SETTINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stored if isinstance(stored, dict) else {}


def _write_settings(state: ServerState, settings: dict[str, Any]) -> None:
    state.user_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(state.user_dir / SETTINGS_FILE, json.dumps(settings, indent=4).encode())


def write_atomically(target: Path, data: bytes) -> None:
    temporary = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()


@routes.get("/settings")
async def get_settings(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response({**state.config.settings_defaults, **_stored_settings(state)})


@routes.get("/settings/{setting_id}")
async def get_setting(request: web.Request) -> web.Response:
    state = request.app[STATE]
    key = request.match_info["setting_id"]
    settings = {**state.config.settings_defaults, **_stored_settings(state)}
    return web.json_response(settings.get(key))


@routes.post("/settings")
async def post_settings(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = await read_json_object(request, max_depth=state.config.max_json_depth)
    # read-modify-write without an await in between: requests on the event loop cannot interleave here
    _write_settings(state, {**_stored_settings(state), **body})
    return web.Response(status=200)


@routes.post("/settings/{setting_id}")
async def post_setting(request: web.Request) -> web.Response:
    state = request.app[STATE]
    value = await read_json(request, max_depth=state.config.max_json_depth)
    settings = _stored_settings(state)
    settings[request.match_info["setting_id"]] = value
    _write_settings(state, settings)
    return web.Response(status=200)


# -- users --------------------------------------------------------------------------------------------
@routes.get("/users")
async def get_users(request: web.Request) -> web.Response:
    return web.json_response({"storage": "server", "migrated": True})  # no "users" key: single-user


@routes.post("/users")
async def post_users(request: web.Request) -> web.Response:
    fail(400, "single_user", "graphflow runs single-user; there are no other users to create.")


# -- user data ----------------------------------------------------------------------------------------
def _user_path(state: ServerState, relative: str) -> Path:
    if not relative:
        fail(400, "invalid_request", "No file name given.")
    try:
        return resolve_inside(state.user_dir, relative)
    except UnsafePathError as error:
        fail(403, "forbidden", f"That path is not allowed: {error}")


def _relative(state: ServerState, path: Path) -> str:
    return path.relative_to(resolve_inside(state.user_dir)).as_posix()


def _info(state: ServerState, path: Path) -> dict[str, Any]:
    stat = path.stat()
    return {
        "path": _relative(state, path),
        "size": stat.st_size,
        "modified": int(stat.st_mtime * 1000),
        "created": int(stat.st_ctime * 1000),
    }


def _inside(root: str, path: str) -> bool:
    real = os.path.realpath(path)
    return real == root or real.startswith(root + os.sep)


def _walk(folder: Path, recurse: bool) -> list[Path]:
    root = os.path.realpath(folder)
    found: list[Path] = []
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if _inside(root, os.path.join(current, d))) if recurse else []
        for name in sorted(files):
            path = os.path.join(current, name)
            if _inside(root, path) and os.path.isfile(path):
                found.append(Path(path))
    return found


@routes.get("/userdata")
@path_errors
async def list_userdata(request: web.Request) -> web.Response:
    state = request.app[STATE]
    directory = request.query.get("dir", "")
    if not directory:
        fail(400, "invalid_request", "Query parameter 'dir' is required.")
    folder = _user_path(state, directory)
    if not folder.is_dir():
        fail(404, "not_found", "Directory not found")
    recurse = query_bool(request.query, "recurse", False)
    full_info = query_bool(request.query, "full_info", False)
    split = query_bool(request.query, "split", False)
    files = await asyncio.to_thread(_walk, folder, recurse)
    result: list[Any] = []
    for path in files:
        relative = path.relative_to(folder).as_posix()
        if full_info:
            entry = _info(state, path)
            entry["path"] = relative
            result.append(entry)
        elif split:
            result.append([relative, *relative.split("/")])
        else:
            result.append(relative)
    return web.json_response(result)


@routes.get("/v2/userdata")
@path_errors
async def list_userdata_v2(request: web.Request) -> web.Response:
    state = request.app[STATE]
    relative = request.query.get("path", "").strip("/")
    state.user_dir.mkdir(parents=True, exist_ok=True)
    folder = _user_path(state, relative) if relative else resolve_inside(state.user_dir)
    if not folder.is_dir():
        fail(404, "not_found", "Directory not found")
    root = os.path.realpath(state.user_dir)
    entries: list[dict[str, Any]] = []
    for entry in sorted(folder.iterdir(), key=lambda p: (not p.is_dir(), p.name.lower())):
        if not _inside(root, str(entry)):
            continue
        item: dict[str, Any] = {
            "name": entry.name,
            "path": entry.relative_to(folder).as_posix() if not relative else f"{relative}/{entry.name}",
            "type": "directory" if entry.is_dir() else "file",
        }
        if entry.is_file():
            stat = entry.stat()
            item.update(size=stat.st_size, modified=int(stat.st_mtime * 1000))
        entries.append(item)
    return web.json_response(entries)


@routes.get("/userdata/{file}")
@path_errors
async def get_userdata(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    path = _user_path(state, request.match_info["file"])
    if not path.is_file():
        fail(404, "not_found", "File not found")
    return web.FileResponse(path, headers={"X-Content-Type-Options": "nosniff"})


@routes.post("/userdata/{file}")
@path_errors
async def post_userdata(request: web.Request) -> web.Response:
    state = request.app[STATE]
    path = _user_path(state, request.match_info["file"])
    if not query_bool(request.query, "overwrite", True) and path.exists():
        fail(409, "conflict", "File already exists")
    if path.is_dir():
        fail(400, "invalid_request", "That name is a folder.")
    data = await request.read()
    path.parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(write_atomically, path, data)
    if query_bool(request.query, "full_info", False):
        return web.json_response(_info(state, path))
    return web.json_response(_relative(state, path))


@routes.delete("/userdata/{file}")
@path_errors
async def delete_userdata(request: web.Request) -> web.Response:
    state = request.app[STATE]
    path = _user_path(state, request.match_info["file"])
    if not path.is_file():
        fail(404, "not_found", "File not found")
    path.unlink()
    return web.Response(status=204)


@routes.post("/userdata/{file}/move/{dest}")
@path_errors
async def move_userdata(request: web.Request) -> web.Response:
    state = request.app[STATE]
    source = _user_path(state, request.match_info["file"])
    dest = _user_path(state, request.match_info["dest"])
    if not source.is_file():
        fail(404, "not_found", "File not found")
    if dest.exists() and not query_bool(request.query, "overwrite", True):
        fail(409, "conflict", "File already exists")
    if dest.is_dir():
        fail(400, "invalid_request", "The destination is a folder.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, dest)
    if query_bool(request.query, "full_info", False):
        return web.json_response(_info(state, dest))
    return web.json_response(_relative(state, dest))
