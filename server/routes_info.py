"""Read-only information: node definitions, system stats, features, models, packs and their front-end parts."""

from __future__ import annotations

import asyncio
import os
import platform
import sys
from pathlib import Path
from typing import Any

from aiohttp import web

from graphflow.paths import UnsafePathError, resolve_inside

from .bodies import fail, path_errors, query_int
from .packs import translations, workflow_templates
from .state import STATE, ServerState

routes = web.RouteTableDef()

COMFYUI_VERSION = "0.3.64"  # the server version whose API graphflow speaks
FRONTEND_VERSION = "1.58.1"
FALLBACK_MODEL_KINDS = (
    "checkpoints", "configs", "loras", "vae", "text_encoders", "diffusion_models", "clip_vision",
    "style_models", "embeddings", "diffusers", "vae_approx", "controlnet", "gligen", "upscale_models",
    "custom_nodes", "hypernetworks", "photomaker", "classifiers", "model_patches", "audio_encoders",
)  # fmt: skip
PREVIEW_SUFFIXES = (".webp", ".png", ".jpg", ".jpeg", ".preview.png", ".preview.webp")


@routes.get("/object_info")
async def object_info(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response(await asyncio.to_thread(state.object_info))


@routes.get("/object_info/{node_class}")
async def object_info_one(request: web.Request) -> web.Response:
    state = request.app[STATE]
    spec = state.runtime.registry.get(request.match_info["node_class"])
    if spec is None:
        return web.json_response({})
    return web.json_response({spec.class_type: spec.object_info(state.runtime)})


@routes.get("/features")
async def features(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].config.features())


def _devices() -> list[dict[str, Any]]:
    import psutil

    torch = sys.modules.get("torch")  # never import torch just to answer this
    memory = psutil.virtual_memory()
    devices = []
    if torch is not None and torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            free, total = torch.cuda.mem_get_info(index)
            name = torch.cuda.get_device_name(index)
            devices.append(
                {"name": f"cuda:{index} {name}", "type": "cuda", "index": index, "vram_total": total,
                 "vram_free": free, "torch_vram_total": total, "torch_vram_free": free}
            )  # fmt: skip
    if not devices:
        devices.append(
            {"name": "cpu", "type": "cpu", "index": None, "vram_total": memory.total,
             "vram_free": memory.available, "torch_vram_total": memory.total, "torch_vram_free": memory.available}
        )  # fmt: skip
    return devices


@routes.get("/system_stats")
async def system_stats(request: web.Request) -> web.Response:
    import psutil

    from graphflow import __version__ as graphflow_version

    memory = psutil.virtual_memory()
    torch = sys.modules.get("torch")
    system = {
        "os": os.name,
        "ram_total": memory.total,
        "ram_free": memory.available,
        "comfyui_version": COMFYUI_VERSION,
        "graphflow_version": graphflow_version,
        "required_frontend_version": FRONTEND_VERSION,
        "installed_templates_version": "",
        "required_templates_version": "",
        "python_version": sys.version,
        "pytorch_version": getattr(torch, "__version__", ""),
        "embedded_python": False,
        "platform": platform.platform(),
        # graphflow has no paid API nodes; the flag also stops the front end's release check
        "argv": ["graphflow", "serve", "--disable-api-nodes"],
    }
    return web.json_response({"system": system, "devices": await asyncio.to_thread(_devices)})


# -- models ---------------------------------------------------------------------------------------------
def _kinds(state: ServerState) -> list[str]:
    folders = state.model_folders()
    return list(folders.kinds) if folders is not None else list(FALLBACK_MODEL_KINDS)


def _files(state: ServerState, kind: str) -> list[str]:
    folders = state.model_folders()
    if kind not in _kinds(state):
        fail(404, "not_found", f"Unknown model folder {kind!r}.")
    return list(folders.list(kind)) if folders is not None else []


def _folders(state: ServerState, kind: str) -> list[Path]:
    folders = state.model_folders()
    return list(folders.folders(kind)) if folders is not None else []


@routes.get("/models")
async def models(request: web.Request) -> web.Response:
    return web.json_response(_kinds(request.app[STATE]))


@routes.get("/models/{folder}")
async def models_in(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response(await asyncio.to_thread(_files, state, request.match_info["folder"]))


@routes.get("/embeddings")
async def embeddings(request: web.Request) -> web.Response:
    state = request.app[STATE]
    names = await asyncio.to_thread(_files, state, "embeddings") if "embeddings" in _kinds(state) else []
    return web.json_response([name.rsplit(".", 1)[0] for name in names])


@routes.get("/experiment/models")
async def experiment_models(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response(
        [{"name": kind, "folders": [str(p) for p in _folders(state, kind)]} for kind in _kinds(state)]
    )


def _model_entries(state: ServerState, kind: str) -> list[dict[str, Any]]:
    entries = []
    for index, folder in enumerate(_folders(state, kind)):
        if not folder.is_dir():
            continue
        for name in _files(state, kind):
            try:
                path = resolve_inside(folder, name)
            except UnsafePathError:
                continue
            if path.is_file():
                stat = path.stat()
                entries.append(
                    {"name": name, "pathIndex": index, "modified": stat.st_mtime, "created": stat.st_ctime,
                     "size": stat.st_size}
                )  # fmt: skip
    return entries


@routes.get("/experiment/models/{folder}")
async def experiment_models_in(request: web.Request) -> web.Response:
    state = request.app[STATE]
    kind = request.match_info["folder"]
    if kind not in _kinds(state):
        fail(404, "not_found", f"Unknown model folder {kind!r}.")
    return web.json_response(await asyncio.to_thread(_model_entries, state, kind))


@routes.get("/experiment/models/preview/{folder}/{path_index}/{filename:.+}")
@path_errors
async def experiment_model_preview(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    kind = request.match_info["folder"]
    if kind not in _kinds(state):
        fail(404, "not_found", f"Unknown model folder {kind!r}.")
    index = query_int({"i": request.match_info["path_index"]}, "i", 0, minimum=0)
    folders = _folders(state, kind)
    if index >= len(folders):
        fail(404, "not_found", "No such model folder.")
    stem = request.match_info["filename"].rsplit(".", 1)[0]
    for suffix in PREVIEW_SUFFIXES:
        try:
            candidate = resolve_inside(folders[index], stem + suffix)
        except UnsafePathError as error:
            fail(403, "forbidden", str(error))
        if candidate.is_file():
            return web.FileResponse(candidate)
    fail(404, "not_found", "This model has no preview image.")


# -- packs and their front-end parts ----------------------------------------------------------------
@routes.get("/packs")
async def packs(request: web.Request) -> web.Response:
    from graphflow.plugins.web import packs_json

    return web.json_response(packs_json(request.app[STATE].runtime.registry))


@routes.get("/extensions")
async def extensions(request: web.Request) -> web.Response:
    from graphflow.plugins.web import extension_scripts

    state = request.app[STATE]
    urls = await asyncio.to_thread(extension_scripts, state.runtime.registry)
    return web.json_response([*state.extension_scripts, *urls])


@routes.get("/i18n")
async def i18n(request: web.Request) -> web.Response:
    registry = request.app[STATE].runtime.registry
    return web.json_response(await asyncio.to_thread(translations, registry))


@routes.get("/workflow_templates")
async def templates(request: web.Request) -> web.Response:
    registry = request.app[STATE].runtime.registry
    return web.json_response(await asyncio.to_thread(workflow_templates, registry))


@routes.get("/global_subgraphs")
async def global_subgraphs(request: web.Request) -> web.Response:
    return web.json_response({})


@routes.get("/global_subgraphs/{subgraph_id}")
async def global_subgraph(request: web.Request) -> web.Response:
    fail(404, "not_found", "No such subgraph.")


@routes.get("/node_replacements")
async def node_replacements(request: web.Request) -> web.Response:
    return web.json_response({})
