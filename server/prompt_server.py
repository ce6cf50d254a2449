"""The bridge to ``PromptServer.instance``, ComfyUI's server object that classic packs use.

graphflow's stand-in (:mod:`graphflow.plugins.compat.prompt_server`) collects what packs register at
import time; here the server takes it over:

- routes packs added to ``PromptServer.instance.routes`` are served, bare and under ``/api`` as ComfyUI
  does (a route that clashes with a built-in one is skipped with a warning);
- ``send_sync(event, data, sid)`` messages go out over the WebSocket (to ``sid``, or to everybody);
  ``send_progress_text`` becomes a binary type-3 frame in 0.3.64's layout (graphflow does not announce
  ``supports_progress_text_metadata``);
- ``on_prompt`` handlers rewrite ``POST /prompt`` bodies;
- ``client_id`` and ``last_node_id`` follow the running prompt.
"""

from __future__ import annotations

import logging
import struct
from typing import Any

from aiohttp import web

from .hub import Hub, message
from .routing import API_PREFIX

log = logging.getLogger(__name__)

TEXT_FRAME = 3


def prompt_server() -> Any:
    from graphflow.plugins.compat.prompt_server import PromptServer

    return PromptServer.instance


def progress_text_frame(node_id: str, text: str) -> bytes:
    """Binary type 3: ``[u32 3][u32 len(node id)][node id][text]``, all UTF-8, big-endian lengths."""
    node = str(node_id).encode()
    return struct.pack(">II", TEXT_FRAME, len(node)) + node + str(text).encode()


def add_pack_routes(app: web.Application, server: Any) -> None:
    """Serve the routes packs registered (each under its path and ``/api`` + path)."""
    for route in server.routes:
        try:
            if isinstance(route, web.RouteDef):
                for path in (route.path, API_PREFIX + route.path):
                    app.router.add_route(route.method, path, route.handler, **route.kwargs)
            else:  # static folders and other route kinds register themselves, bare
                route.register(app.router)
        except (RuntimeError, ValueError) as error:
            log.warning("a node pack's route %r was not added: %s", route, error)


def install_message_sink(hub: Hub) -> None:
    """Deliver messages packs send through ``PromptServer.instance`` over the WebSocket."""
    from graphflow.plugins.compat.prompt_server import PROGRESS_TEXT_EVENT, set_message_sink

    def sink(event: str, data: Any, sid: str | None) -> None:
        if event == PROGRESS_TEXT_EVENT and isinstance(data, dict):
            frame = progress_text_frame(data.get("node_id", ""), data.get("text", ""))
            hub.post(sid, frame, fallback_all=True)
            return
        try:
            text = message(event, data)
        except (TypeError, ValueError) as error:
            log.warning("a node pack sent a %r message that is not JSON (%s); dropped", event, error)
            return
        if sid is None:
            hub.broadcast(text)
        else:
            hub.post(sid, text)

    set_message_sink(sink)


def remove_message_sink() -> None:
    from graphflow.plugins.compat.prompt_server import set_message_sink

    set_message_sink(None)
