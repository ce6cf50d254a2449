"""Stand-in for ComfyUI's ``server`` module: ``PromptServer.instance`` for packs that add routes or events.

Packs commonly do, at import time::

    from server import PromptServer

    @PromptServer.instance.routes.get("/my_pack/info")
    async def info(request): ...

    PromptServer.instance.send_sync("my_pack.status", {"ok": True})

Routes are collected on ``PromptServer.instance.routes`` (an aiohttp ``RouteTableDef``); graphflow's server
adds them to its app. Messages go to the sink the server installs with :func:`set_message_sink` (dropped
while none is installed, e.g. under ``graphflow run``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphflow.plugins.compat.missing import not_provided

MessageSink = Callable[[str, Any, "str | None"], None]
PROGRESS_TEXT_EVENT = "graphflow.progress_text"


class _Singleton:
    """``PromptServer.instance``, created on first access (so importing this module imports no aiohttp)."""

    def __get__(self, obj: object, owner: type) -> PromptServer:
        return _instance()


class PromptServer:
    """The one object packs reach through ``PromptServer.instance``."""

    instance = _Singleton()

    def __init__(self) -> None:
        from aiohttp import web

        self.routes = web.RouteTableDef()
        self.client_id: str | None = None
        self.last_node_id: str | None = None
        self.on_prompt_handlers: list[Callable[[dict], dict]] = []
        self._sink: MessageSink | None = None

    def send_sync(self, event: str, data: Any, sid: str | None = None) -> None:
        """Send a JSON message ``{"type": event, "data": data}`` to client ``sid`` (all when ``None``)."""
        if self._sink is not None:
            self._sink(event, data, sid)

    async def send(self, event: str, data: Any, sid: str | None = None) -> None:
        self.send_sync(event, data, sid)

    def send_progress_text(self, text: str, node_id: str, sid: str | None = None) -> None:
        """Text shown under a node in the editor."""
        self.send_sync(PROGRESS_TEXT_EVENT, {"node_id": node_id, "text": text}, sid)

    def add_on_prompt_handler(self, handler: Callable[[dict], dict]) -> None:
        self.on_prompt_handlers.append(handler)

    def __getattr__(self, name: str) -> Any:
        raise not_provided("server.PromptServer.instance", name)


_singleton: list[PromptServer] = []


def _instance() -> PromptServer:
    if not _singleton:
        _singleton.append(PromptServer())
    return _singleton[0]


def set_message_sink(sink: MessageSink | None) -> None:
    """Where ``send_sync`` messages go: ``sink(event, data, sid)``; graphflow's server installs one."""
    _instance()._sink = sink


def pack_routes() -> Any:
    """The aiohttp ``RouteTableDef`` holding every route packs registered."""
    return _instance().routes


def __getattr__(name: str) -> Any:
    raise not_provided("server", name)
