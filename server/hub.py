"""The WebSocket hub: connected clients, and delivery of messages posted from any thread.

Workers run on their own threads and post messages here; :meth:`Hub.post` appends to one FIFO and wakes
the event loop at most once per batch (``call_soon_threadsafe``), so thousands of messages per prompt cost
one wake-up each batch, and messages keep the order they were posted in. Each client has its own queue and
sender task, so a slow client never holds up the others.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

PREVIEW_IMAGE = 1
PREVIEW_IMAGE_WITH_METADATA = 4
JPEG = 1
MAX_BACKLOG = 200_000  # messages queued for one client before it is considered dead


def message(kind: str, data: Any) -> str:
    """A ComfyUI JSON frame ``{"type": kind, "data": data}`` as compact text."""
    return json.dumps({"type": kind, "data": data}, separators=(",", ":"))


@dataclass(slots=True)
class PreviewFrame:
    """A step preview with its ``progress`` message; rendered per client (type 4 before, type 1 after)."""

    jpeg: bytes
    metadata: dict[str, Any]
    progress: str

    def frames(self, with_metadata: bool) -> list[str | bytes]:
        if with_metadata:
            meta = json.dumps(self.metadata, separators=(",", ":")).encode()
            head = struct.pack(">II", PREVIEW_IMAGE_WITH_METADATA, len(meta))
            return [head + meta + self.jpeg, self.progress]
        return [self.progress, struct.pack(">II", PREVIEW_IMAGE, JPEG) + self.jpeg]


Outgoing = str | bytes | PreviewFrame


class Client:
    """One connected socket: its id, the flags it announced, and its outgoing queue."""

    def __init__(self, sid: str, ws: web.WebSocketResponse) -> None:
        self.sid = sid
        self.ws = ws
        self.preview_metadata = False
        self.backlog: deque[Outgoing] = deque()
        self.wake = asyncio.Event()
        self.closed = False
        self.task: asyncio.Task | None = None

    def push(self, item: Outgoing) -> None:
        if self.closed:
            return
        self.backlog.append(item)
        if len(self.backlog) > MAX_BACKLOG:
            log.warning("client %s is not reading its WebSocket; disconnecting it", self.sid)
            self.close()
            return
        self.wake.set()

    def close(self) -> None:
        self.closed = True
        self.backlog.clear()
        self.wake.set()
        asyncio.ensure_future(self.ws.close())

    async def pump(self) -> None:
        ws = self.ws
        try:
            while not self.closed:
                await self.wake.wait()
                self.wake.clear()
                while self.backlog and not self.closed:
                    item = self.backlog.popleft()
                    if isinstance(item, PreviewFrame):
                        for frame in item.frames(self.preview_metadata):
                            await _send(ws, frame)
                    else:
                        await _send(ws, item)
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            self.closed = True


async def _send(ws: web.WebSocketResponse, frame: str | bytes) -> None:
    if isinstance(frame, str):
        await ws.send_str(frame)
    else:
        await ws.send_bytes(frame)


class Hub:
    """Clients by id, and a thread-safe outbox drained on the event loop."""

    def __init__(self) -> None:
        self.clients: dict[str, Client] = {}
        self._outbox: deque[tuple[str | None, bool, Outgoing]] = deque()
        self._lock = threading.Lock()
        self._wake_scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    # -- posting (any thread) ------------------------------------------------------------------------
    def post(self, client_id: str | None, item: Outgoing, *, fallback_all: bool = False) -> None:
        """Send to ``client_id``; without one, broadcast if ``fallback_all``, else drop."""
        if client_id is None and not fallback_all:
            return
        self._enqueue(client_id, False, item)

    def broadcast(self, item: Outgoing) -> None:
        self._enqueue(None, True, item)

    def _enqueue(self, client_id: str | None, to_all: bool, item: Outgoing) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with self._lock:
            self._outbox.append((client_id, to_all, item))
            if self._wake_scheduled:
                return
            self._wake_scheduled = True
        try:
            loop.call_soon_threadsafe(self._flush)
        except RuntimeError:  # the loop closed while we were posting: nobody is listening any more
            pass

    def _flush(self) -> None:
        with self._lock:
            items = list(self._outbox)
            self._outbox.clear()
            self._wake_scheduled = False
        clients = self.clients
        for client_id, to_all, item in items:
            if to_all or client_id is None:
                for client in tuple(clients.values()):
                    client.push(item)
            else:
                client = clients.get(client_id)
                if client is not None:
                    client.push(item)

    # -- connections (event loop) ----------------------------------------------------------------------
    def connect(self, sid: str, ws: web.WebSocketResponse) -> Client:
        """Register a socket under ``sid``, replacing (and closing) an older socket with that id."""
        old = self.clients.get(sid)
        if old is not None:
            old.close()
        client = Client(sid, ws)
        self.clients[sid] = client
        client.task = asyncio.ensure_future(client.pump())
        return client

    def disconnect(self, client: Client) -> None:
        if self.clients.get(client.sid) is client:
            del self.clients[client.sid]
        client.closed = True
        client.wake.set()

    async def close_all(self) -> None:
        for client in list(self.clients.values()):
            self.disconnect(client)
            await client.ws.close(code=1001, message=b"server shutting down")
