"""gzip for the editor's immutable assets, compressed once and kept in memory.

The front end's JavaScript is large (one vendor file is 11 MB) and compresses about fourfold. Hashed files
under ``/assets`` never change while the server runs, so each is compressed the first time a client that
accepts gzip asks for it (in a thread) and the bytes are reused for every later request.
"""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

from aiohttp import web

COMPRESSIBLE = frozenset({".js", ".mjs", ".css", ".json", ".svg", ".wasm", ".html", ".txt"})
MIN_SIZE = 1024  # smaller files gain nothing worth the header


class GzipCache:
    """Compressed bodies of files, by path; the total kept is bounded by ``max_bytes``."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.used = 0
        self._bodies: dict[Path, bytes] = {}
        self._pending: dict[Path, asyncio.Future[bytes]] = {}

    @staticmethod
    def wanted(request: web.Request, path: Path) -> bool:
        return (
            path.suffix.lower() in COMPRESSIBLE
            and "gzip" in request.headers.get("Accept-Encoding", "").lower()
            and path.stat().st_size >= MIN_SIZE
        )

    async def body(self, path: Path) -> bytes:
        """The gzip bytes of ``path`` (compressed once even when many requests ask at the same time)."""
        cached = self._bodies.get(path)
        if cached is not None:
            return cached
        task = self._pending.get(path)
        if task is None:
            task = self._pending[path] = asyncio.ensure_future(asyncio.to_thread(_compress, path))
            task.add_done_callback(lambda done: self._store(path, done))
        return await asyncio.shield(task)

    def _store(self, path: Path, task: asyncio.Future[bytes]) -> None:
        self._pending.pop(path, None)
        if task.cancelled() or task.exception() is not None:
            return
        data = task.result()
        if self.used + len(data) <= self.max_bytes:
            self._bodies[path] = data
            self.used += len(data)


def _compress(path: Path) -> bytes:
    return gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)


async def gzip_response(cache: GzipCache, path: Path, headers: dict[str, str]) -> web.Response:
    body = await cache.body(path)
    return web.Response(body=body, headers={**headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
