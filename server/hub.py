"""The WebSocket hub: connected clients, and delivery of messages posted from any thread.

Workers run on their own threads and post messages here; :meth:`Hub.post` appends to one FIFO and wakes
the event loop at most once per batch, and a batch collects everything posted within 2 ms, so thousands of
messages per prompt cost a few dozen wake-ups, and messages keep the order they were posted in. Each client has its own queue and
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
TEXT_OPCODE, BINARY_OPCODE = 0x1, 0x2
BATCH_BYTES = 256 * 1024
HIGH_WATER = 1 << 20  # bytes buffered for a client before its sender waits
#: Messages posted within this window are delivered together: waking the event loop for every message
#: costs the worker thread a GIL hand-over each time (measured: +60 % run time on a 1000-node chain).
FLUSH_DELAY_SECONDS = 0.002


def message(kind: str, data: Any) -> str:
    """A ComfyUI JSON frame ``{"type": kind, "data": data}`` as compact text.

    Values JSON cannot hold (a node may put any object in its ``ui``) are sent as their ``str``.
    """
    return json.dumps({"type": kind, "data": data}, separators=(",", ":"), default=str)


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


def ws_frame(payload: bytes, binary: bool) -> bytes:
    """One final, unmasked WebSocket frame as a server sends it (RFC 6455 §5.2)."""
    first = 0x80 | (BINARY_OPCODE if binary else TEXT_OPCODE)
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", first, length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", first, 126, length)
    else:
        head = struct.pack("!BBQ", first, 127, length)
    return head + payload


class Client:
    """One connected socket: its id, the flags it announced, and its outgoing queue.

    Queued messages are framed here and written to the connection's transport in batches: one write per
    batch instead of one per message (a 1000-node prompt makes 3000 messages; per-message writes cost the
    worker thread about a third of its run time in GIL hand-overs). aiohttp still owns the socket for
    reading, pings and closing; its frames and ours never interleave because every write is whole frames.
    """

    def __init__(self, sid: str, ws: web.WebSocketResponse, transport: asyncio.Transport) -> None:
        self.sid = sid
        self.ws = ws
        self.transport = transport
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

    def _batch(self) -> bytes:
        chunks: list[bytes] = []
        size = 0
        backlog = self.backlog
        while backlog and size < BATCH_BYTES:
            item = backlog.popleft()
            for frame in item.frames(self.preview_metadata) if isinstance(item, PreviewFrame) else (item,):
                data = ws_frame(frame.encode(), False) if isinstance(frame, str) else ws_frame(frame, True)
                chunks.append(data)
                size += len(data)
        return b"".join(chunks)

    async def pump(self) -> None:
        transport = self.transport
        try:
            while not self.closed:
                await self.wake.wait()
                self.wake.clear()
                while self.backlog and not self.closed:
                    if transport.is_closing():
                        self.closed = True
                        break
                    transport.write(self._batch())
                    while transport.get_write_buffer_size() > HIGH_WATER and not transport.is_closing():
                        await asyncio.sleep(0.01)  # the client reads slowly: let its buffer drain
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            self.closed = True


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
            loop.call_soon_threadsafe(loop.call_later, FLUSH_DELAY_SECONDS, self._flush)
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
    def connect(self, sid: str, ws: web.WebSocketResponse, transport: asyncio.Transport) -> Client:
        """Register a socket under ``sid``, replacing (and closing) an older socket with that id."""
        old = self.clients.get(sid)
        if old is not None:
            old.close()
        client = Client(sid, ws, transport)
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
