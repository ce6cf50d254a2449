"""Group commit for SQLite: one writer thread applies every waiting write in one transaction.

Callers submit ``op(connection)`` from any thread and get a :class:`concurrent.futures.Future` that
resolves only after the transaction holding the write has committed (``synchronous=FULL``: it is on disk).
While one commit waits for the disk, new writes queue up and share the next commit, so throughput grows
with concurrency instead of being capped at one fsync per write. Each write runs in its own savepoint: a
write that raises fails alone and the rest of its batch still commits.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_BATCH = 1024
_STOP = object()


def connect(path: Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection in WAL mode with full durability (autocommit; transactions are explicit)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=check_same_thread, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class GroupCommitWriter:
    """The single writer of one database file; ``conn`` is used only by its thread once started."""

    def __init__(self, conn: sqlite3.Connection, name: str = "graphflow-sqlite") -> None:
        self._conn = conn
        self._ops: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, op: Callable[[sqlite3.Connection], T]) -> Future[T]:
        """Run ``op(connection)`` in the next group transaction; the future resolves after the commit."""
        future: Future[T] = Future()
        self._ops.put((op, future))
        return future

    def close(self) -> None:
        """Commit what is queued, then stop the thread and close the connection."""
        if self._thread.is_alive():
            self._ops.put(_STOP)
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        conn = self._conn
        stop = False
        while not stop:
            item = self._ops.get()
            if item is _STOP:
                break
            batch = [item]
            while len(batch) < MAX_BATCH:
                try:
                    more = self._ops.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop = True
                    break
                batch.append(more)
            self._apply(conn, batch)
        conn.close()

    @staticmethod
    def _apply(conn: sqlite3.Connection, batch: list[tuple[Callable, Future]]) -> None:
        results: list[tuple[Future, Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for op, future in batch:
                conn.execute("SAVEPOINT op")
                try:
                    value = op(conn)
                except Exception as error:
                    conn.execute("ROLLBACK TO op")
                    results.append((future, None, error))
                else:
                    results.append((future, value, None))
                conn.execute("RELEASE op")
            conn.execute("COMMIT")
        except Exception as error:  # the disk failed us: nothing in this batch is durable
            log.exception("SQLite commit failed")
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for future, value, error in results:
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)
