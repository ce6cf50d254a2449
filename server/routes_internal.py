"""Front-end helpers under ``/internal`` (never mirrored under ``/api``): logs, folder paths, file lists."""

from __future__ import annotations

import asyncio

from aiohttp import web

from graphflow.paths import FOLDER_KINDS

from .bodies import fail, path_errors, read_json_object
from .routes_files import folder_listing
from .state import STATE

routes = web.RouteTableDef()


@routes.get("/internal/logs")
async def logs(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].logs.text())


@routes.get("/internal/logs/raw")
async def logs_raw(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].logs.raw())


@routes.patch("/internal/logs/subscribe")
async def logs_subscribe(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = await read_json_object(request, max_depth=state.config.max_json_depth)
    client_id = body.get("clientId")
    if not isinstance(client_id, str) or not client_id:
        fail(400, "invalid_request", "clientId must be the WebSocket's client id.")
    if body.get("enabled"):
        state.logs.subscribers.add(client_id)
    else:
        state.logs.subscribers.discard(client_id)
    return web.Response(status=200)


@routes.get("/internal/folder_paths")
async def folder_paths(request: web.Request) -> web.Response:
    state = request.app[STATE]
    paths = state.runtime.paths
    result = {kind: [str(paths.folder(kind))] for kind in FOLDER_KINDS}
    folders = state.model_folders()
    if folders is not None:
        for kind in folders.kinds:
            result[kind] = [str(p) for p in folders.folders(kind)]
    return web.json_response(result)


@routes.get("/internal/files/{directory_type}")
@path_errors
async def files(request: web.Request) -> web.Response:
    state = request.app[STATE]
    kind = request.match_info["directory_type"]
    if kind not in FOLDER_KINDS:
        fail(400, "invalid_request", f"Unknown folder {kind!r}; use {', '.join(FOLDER_KINDS)}.")
    return web.json_response(await asyncio.to_thread(folder_listing, state, kind))
