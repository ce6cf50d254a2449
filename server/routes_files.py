"""Files: ``/view``, ``/view_metadata/{folder}``, ``/upload/image`` and ``/upload/mask``.

Every user-supplied path goes through :func:`graphflow.paths.resolve_inside`, which resolves symlinks
before checking containment. Files that a browser could run (HTML, JS, SVG, ...) are sent as
``application/octet-stream`` with ``nosniff``, so a file in ``output/`` cannot script the editor's origin.
"""

from __future__ import annotations

import asyncio
import io
import json
import mimetypes
import struct
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from graphflow.paths import FOLDER_KINDS, UnsafePathError, resolve_inside

from .bodies import fail, path_errors
from .state import STATE, ServerState
from .uploads import UploadError, apply_mask, check_pixels, parse_original_ref, store_upload

routes = web.RouteTableDef()

INLINE_TYPES = ("image/", "video/", "audio/")
SAFE_TYPES = ("application/json", "text/plain")
MAX_SAFETENSORS_HEADER = 64 * 1024 * 1024


def split_annotation(filename: str, kind: str) -> tuple[str, str]:
    """``"x.png [input]"`` → ``("x.png", "input")``; the annotation overrides ``type``."""
    for folder in FOLDER_KINDS:
        suffix = f" [{folder}]"
        if filename.endswith(suffix):
            return filename[: -len(suffix)], folder
    return filename, kind


def resolve_file(state: ServerState, kind: str, subfolder: str, filename: str) -> Path:
    """The real path of a ``/view``-style reference, or a 4xx (400 bad name, 403 escape, 404 missing)."""
    if kind not in FOLDER_KINDS:
        fail(400, "invalid_request", f"type must be one of {', '.join(FOLDER_KINDS)}, not {kind[:40]!r}.")
    if not filename:
        fail(404, "not_found", "No filename given.")
    if filename.startswith("/") or ".." in filename:
        fail(400, "invalid_request", "filename must be a plain name inside the folder.")
    root = state.runtime.paths.folder(kind)
    try:
        folder = resolve_inside(root, subfolder)
    except UnsafePathError as error:
        fail(403, "forbidden", f"subfolder is not allowed: {error}")
    try:
        path = resolve_inside(folder, filename)
    except UnsafePathError as error:
        fail(400, "invalid_request", f"filename is not allowed: {error}")
    if not path.is_file():
        fail(404, "not_found", f"{filename} was not found in {kind}.")
    return path


def _disposition(name: str) -> str:
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in name) or "file"
    return f"filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _content_type(path: Path) -> str:
    guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if guessed == "image/svg+xml":
        return "application/octet-stream"
    if guessed.startswith(INLINE_TYPES) or guessed in SAFE_TYPES:
        return guessed
    return "application/octet-stream"


def _reencode(
    path: Path, preview: str | None, channel: str, alpha_asked: bool, max_pixels: int
) -> tuple[bytes, str]:
    """The image converted for ``preview``/``channel`` (comfy-wire.md §3.8).

    ``alpha_asked``: the request named a channel with alpha, which forces WebP for previews.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if image.size[0] * image.size[1] > max_pixels:
                fail(400, "invalid_request", "The image is too large to convert.")
            image.load()
            if channel == "a":
                rgba = image.convert("RGBA")
                out = Image.new("RGBA", rgba.size)
                out.putalpha(rgba.getchannel("A"))
                image = out
            elif channel == "rgb":
                image = image.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        fail(400, "invalid_request", "The file is not an image that can be converted.")
    buffer = io.BytesIO()
    if preview is not None:
        fmt, _, quality_text = preview.partition(";")
        fmt = fmt.strip().lower()
        quality = int(quality_text) if quality_text.strip().isdigit() else 90
        quality = max(1, min(quality, 100))
        if fmt not in ("webp", "jpeg") or alpha_asked:
            fmt = "webp"
        if fmt == "jpeg" and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(buffer, format=fmt.upper(), quality=quality)
        return buffer.getvalue(), f"image/{fmt}"
    image.save(buffer, format="PNG")
    return buffer.getvalue(), "image/png"


@routes.get("/view")
@path_errors
async def view(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    query = request.query
    filename, kind = split_annotation(query.get("filename", ""), query.get("type", "output") or "output")
    path = resolve_file(state, kind, query.get("subfolder", ""), filename)
    preview = query.get("preview")
    channel_asked = query.get("channel", "").lower()
    channel = channel_asked or "rgba"
    if channel not in ("rgba", "rgb", "a"):
        fail(400, "invalid_request", "channel must be rgba, rgb or a.")
    headers = {"Content-Disposition": _disposition(path.name), "X-Content-Type-Options": "nosniff"}
    if preview is None and channel == "rgba":
        headers["Content-Type"] = _content_type(path)
        return web.FileResponse(path, headers=headers)
    data, content_type = await asyncio.to_thread(
        _reencode, path, preview, channel, "a" in channel_asked, state.config.max_upload_pixels
    )
    return web.Response(body=data, content_type=content_type, headers=headers)


@routes.get("/view_metadata/{folder}")
@path_errors
async def view_metadata(request: web.Request) -> web.Response:
    state = request.app[STATE]
    folders = state.model_folders()
    filename = request.query.get("filename", "")
    if folders is None or not filename.endswith(".safetensors"):
        fail(404, "not_found", "No safetensors file of that name.")
    try:
        path = folders.resolve(request.match_info["folder"], filename)
    except (KeyError, ValueError, OSError, UnsafePathError):
        fail(404, "not_found", "No safetensors file of that name.")
    except Exception as error:  # ModelNotFoundError and friends from the model service
        fail(404, "not_found", str(error))
    metadata = await asyncio.to_thread(_safetensors_metadata, path)
    if metadata is None:
        fail(404, "not_found", "The file has no readable safetensors header.")
    return web.json_response(metadata)


def _safetensors_metadata(path: Path) -> dict[str, Any] | None:
    try:
        with path.open("rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            if length > MAX_SAFETENSORS_HEADER:
                return None
            header = json.loads(handle.read(length))
    except (OSError, ValueError, struct.error):
        return None
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    return metadata if isinstance(metadata, dict) else None


async def _read_upload(request: web.Request) -> tuple[Any, bytes]:
    try:
        form = await request.post()
    except web.HTTPException:
        raise
    except (ValueError, LookupError, AssertionError, UnicodeError, HttpProcessingError) as error:
        fail(400, "invalid_request", "The upload is not a valid multipart form.", str(error).strip())
    part = form.get("image")
    if part is None or not hasattr(part, "file"):
        fail(400, "invalid_request", "The form needs a file part named 'image'.")
    return form, await asyncio.to_thread(part.file.read)


def _field(form: Any, name: str, default: str) -> str:
    value = form.get(name, default)
    return value if isinstance(value, str) else default


async def _store(request: web.Request, mask: bool) -> web.Response:
    state = request.app[STATE]
    form, data = await _read_upload(request)
    kind = _field(form, "type", "input") or "input"
    if kind not in FOLDER_KINDS:
        fail(400, "invalid_request", f"type must be one of {', '.join(FOLDER_KINDS)}.")
    subfolder = _field(form, "subfolder", "")
    overwrite = _field(form, "overwrite", "").lower() in ("true", "1")
    name = form["image"].filename or ""
    root = state.runtime.paths.folder(kind)
    max_pixels = state.config.max_upload_pixels

    def work() -> dict[str, str]:
        payload = data
        if mask:
            ref = parse_original_ref(_field(form, "original_ref", ""))
            ref_name, ref_kind = split_annotation(ref["filename"], ref.get("type", "output") or "output")
            original = resolve_file(state, ref_kind, ref.get("subfolder", ""), ref_name)
            payload = apply_mask(original, data, max_pixels)
        else:
            check_pixels(data, max_pixels)
        return store_upload(root, subfolder, name, payload, overwrite=overwrite, kind=kind).as_json()

    try:
        stored = await asyncio.to_thread(work)
    except (UploadError, UnsafePathError) as error:
        fail(400, "invalid_request", str(error))
    return web.json_response(stored)


@routes.post("/upload/image")
@path_errors
async def upload_image(request: web.Request) -> web.Response:
    return await _store(request, mask=False)


@routes.post("/upload/mask")
@path_errors
async def upload_mask(request: web.Request) -> web.Response:
    return await _store(request, mask=True)


def folder_listing(state: ServerState, kind: str) -> list[str]:
    """Files directly in the ``input``/``output``/``temp`` folder, newest first (``/internal/files``)."""
    root = state.runtime.paths.folder(kind)
    if not root.is_dir():
        return []
    entries = [entry for entry in root.iterdir() if entry.is_file() and not entry.name.startswith(".")]
    entries.sort(key=lambda entry: entry.stat().st_mtime, reverse=True)
    return [entry.name for entry in entries]
