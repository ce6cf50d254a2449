"""What the server needs from packs: the ``GET /packs`` body and the packs' front-end files.

- ``GET /packs`` → :func:`packs_json` (every pack: name, source, kind, loaded, error, traceback, nodes,
  clashes, and ``web`` = the URL prefix of its front-end files or ``None``).
- ``GET /extensions`` → the built-in list plus :func:`extension_scripts` (``/extensions/<pack>/<file>.js``).
- ``GET /extensions/<pack>/<path>`` → :func:`extension_file` (``None`` → 404), contained in the pack's
  ``WEB_DIRECTORY`` by :func:`graphflow.paths.resolve_inside`.
- Routes packs registered on ``PromptServer.instance.routes``: :func:`pack_routes`; custom messages packs
  send: install a sink with :func:`graphflow.plugins.compat.prompt_server.set_message_sink`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from graphflow.paths import UnsafePathError, resolve_inside
from graphflow.registry import NodeRegistry, PackStatus


def packs_json(registry: NodeRegistry) -> list[dict[str, Any]]:
    """The ``GET /packs`` body (the built-in pack included, first)."""
    return [
        {**pack.as_json(), "web": f"/extensions/{pack.name}/" if pack.web_directory else None}
        for pack in registry.packs
    ]


def _web_packs(registry: NodeRegistry) -> list[PackStatus]:
    return [pack for pack in registry.packs if pack.loaded and pack.web_directory]


def extension_scripts(registry: NodeRegistry) -> list[str]:
    """URLs of every ``.js`` file under the packs' web folders, as ComfyUI lists them in ``/extensions``."""
    urls = []
    for pack in _web_packs(registry):
        root = Path(pack.web_directory or "")
        for folder, dirs, files in os.walk(root, followlinks=True):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(".js"):
                    relative = (Path(folder) / name).relative_to(root).as_posix()
                    urls.append(f"/extensions/{pack.name}/{relative}")
    return urls


def extension_file(registry: NodeRegistry, pack_name: str, relative_path: str) -> Path | None:
    """The file a ``/extensions/<pack>/<path>`` request names, or ``None`` (unknown pack, missing file,
    or a path leaving the pack's web folder)."""
    for pack in _web_packs(registry):
        if pack.name == pack_name:
            try:
                found = resolve_inside(pack.web_directory or "", relative_path)
            except UnsafePathError:
                return None
            return found if found.is_file() else None
    return None


def pack_routes() -> Any:
    """The aiohttp ``RouteTableDef`` of routes classic packs registered through ``PromptServer``."""
    from graphflow.plugins.compat.prompt_server import pack_routes as routes

    return routes()
