"""``GET /ws?clientId=``: the connect handshake of comfy-wire.md §4.1–4.2.

On connect the client gets ``status`` with its ``sid`` (a new id when it sent none or an unusable one),
then ``executing`` with the current node if it owns the running prompt. Only the first text message is
read, and only a ``feature_flags`` message: it decides the preview frame format and gets the server's
flags back. Everything else a client sends is ignored.
"""

from __future__ import annotations

import json
import uuid

from aiohttp import WSMsgType, web

from .hub import message
from .state import STATE

routes = web.RouteTableDef()

MAX_CLIENT_ID = 128
MAX_CLIENT_MESSAGE = 64 * 1024


def _client_id(value: str | None) -> str:
    if value and len(value) <= MAX_CLIENT_ID and value.isprintable():
        return value
    return uuid.uuid4().hex


@routes.get("/ws")
async def websocket(request: web.Request) -> web.WebSocketResponse:
    state = request.app[STATE]
    # compression off: frames are small and local, and deflating each one costs more than it saves
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_CLIENT_MESSAGE, compress=False)
    await ws.prepare(request)
    transport = request.transport
    if transport is None:  # the client went away during the handshake
        return ws
    sid = _client_id(request.query.get("clientId"))
    client = state.hub.connect(sid, ws, transport)
    client.push(
        message("status", {"status": {"exec_info": {"queue_remaining": state.queue.remaining}}, "sid": sid})
    )
    running = state.queue.running_for_client(sid)
    if running is not None and running.current_node is not None:
        client.push(message("executing", {"node": running.current_node}))
    first_text = True
    try:
        async for incoming in ws:
            if incoming.type != WSMsgType.TEXT or not first_text:
                continue
            first_text = False
            try:
                data = json.loads(incoming.data)
            except ValueError:
                continue
            if isinstance(data, dict) and data.get("type") == "feature_flags":
                flags = data.get("data")
                client.preview_metadata = (
                    isinstance(flags, dict) and flags.get("supports_preview_metadata") is True
                )
                client.push(message("feature_flags", state.config.features()))
    finally:
        state.hub.disconnect(client)
        state.logs.subscribers.discard(sid)
    return ws
