"""The durable queue and history: one SQLite table in WAL mode, written by one thread with group commit.

Every write goes through a :class:`~.group_commit.GroupCommitWriter`: a write's future resolves once its
transaction is on disk. A prompt is answered 200 only after that, so an accepted prompt survives a crash;
concurrent submissions share one fsync.

History rows keep the ``ui`` dicts (file *references* such as ``{"filename", "subfolder", "type"}``), never
file contents. Reads use one connection per thread and never wait for the writer.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .group_commit import GroupCommitWriter, connect

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    prompt_id TEXT PRIMARY KEY,
    counter INTEGER NOT NULL,
    number REAL NOT NULL,
    number_is_float INTEGER NOT NULL,
    prompt TEXT NOT NULL,
    extra_data TEXT NOT NULL,
    outputs_to_execute TEXT NOT NULL,
    state TEXT NOT NULL,
    created INTEGER NOT NULL,
    started INTEGER,
    finished INTEGER,
    history_seq INTEGER UNIQUE,
    outputs TEXT,
    meta TEXT,
    messages TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    notes TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS jobs_queued ON jobs(state) WHERE history_seq IS NULL;
"""

QUEUED_STATES = ("pending", "running")
FINISHED_STATES = ("success", "error", "interrupted", "cancelled")
HISTORY_COLUMNS = (
    "prompt_id, number, number_is_float, prompt, extra_data, outputs_to_execute, state, outputs, meta, "
    "messages, created, started, finished, attempts"
)


class DuplicatePromptId(Exception):
    """A prompt with this id is already queued or in history."""


@dataclass(slots=True)
class StoredJob:
    """A queued job as read back at start-up."""

    prompt_id: str
    counter: int
    number: float
    number_is_float: bool
    prompt: dict[str, Any]
    extra_data: dict[str, Any]
    outputs_to_execute: list[str]
    created: int
    attempts: int
    notes: list[Any]


@dataclass(slots=True)
class HistoryRow:
    """One finished prompt; JSON columns stay text until someone needs them parsed."""

    prompt_id: str
    number: float
    number_is_float: bool
    prompt: str
    extra_data: str
    outputs_to_execute: str
    state: str
    outputs: str
    meta: str
    messages: str
    created: int
    started: int | None
    finished: int | None
    attempts: int

    def entry_json(self) -> str:
        """The ComfyUI history entry, assembled from the stored JSON texts without re-parsing them."""
        number = repr(float(self.number)) if self.number_is_float else str(int(self.number))
        ok = self.state == "success"
        status = (
            f'{{"status_str":"{"success" if ok else "error"}","completed":{"true" if ok else "false"},'
            f'"messages":{self.messages}}}'
        )
        return (
            f'{{"prompt":[{number},{json.dumps(self.prompt_id)},{self.prompt},{self.extra_data},'
            f'{self.outputs_to_execute}],"outputs":{self.outputs},"status":{status},"meta":{self.meta}}}'
        )


class JobStore:
    """Queue and history rows in ``path``; ``history_size`` finished prompts are kept."""

    def __init__(self, path: str | Path, history_size: int = 10_000) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.history_size = history_size
        self._local = threading.local()
        conn = connect(self.path, check_same_thread=False)
        conn.executescript(SCHEMA)
        self._history_seq = conn.execute("SELECT COALESCE(MAX(history_seq), 0) FROM jobs").fetchone()[0]
        self._history_count = conn.execute(
            "SELECT COUNT(*) FROM jobs WHERE history_seq IS NOT NULL"
        ).fetchone()[0]
        self.next_counter = conn.execute("SELECT COALESCE(MAX(counter), -1) + 1 FROM jobs").fetchone()[0]
        self._writer = GroupCommitWriter(conn)

    def submit(self, op: Callable[[sqlite3.Connection], T]) -> Future[T]:
        """Run ``op(connection)`` in the next group commit (see :mod:`.group_commit`)."""
        return self._writer.submit(op)

    def close(self) -> None:
        self._writer.close()

    # -- write operations ------------------------------------------------------------------------------
    def add(self, row: dict[str, Any]) -> Future[None]:
        """Insert a pending job; fails with :class:`DuplicatePromptId` when the id exists."""
        values = (
            row["prompt_id"], row["counter"], row["number"], int(row["number_is_float"]),
            row["prompt_json"], row["extra_data_json"], json.dumps(row["outputs_to_execute"]),
            row["created"],
        )  # fmt: skip

        def insert(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO jobs (prompt_id, counter, number, number_is_float, prompt, extra_data, "
                    "outputs_to_execute, state, created) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
                    values,
                )
            except sqlite3.IntegrityError:
                raise DuplicatePromptId(row["prompt_id"]) from None

        return self.submit(insert)

    def mark_running(self, prompt_id: str, started: int) -> Future[None]:
        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE jobs SET state='running', started=? WHERE prompt_id=? AND history_seq IS NULL",
                (started, prompt_id),
            )

        return self.submit(write)

    def finish(
        self,
        prompt_id: str,
        state: str,
        *,
        outputs: dict[str, Any],
        meta: dict[str, Any],
        messages: list[Any],
        finished: int,
    ) -> Future[None]:
        """Move a job into history (``state`` is one of :data:`FINISHED_STATES`), pruning the oldest."""
        assert state in FINISHED_STATES, state
        # a node may put any object in its ui: store what JSON cannot hold as its str
        texts = (
            json.dumps(outputs, default=str),
            json.dumps(meta, default=str),
            json.dumps(messages, default=str),
        )

        def write(conn: sqlite3.Connection) -> None:
            self._history_seq += 1
            changed = conn.execute(
                "UPDATE jobs SET state=?, finished=?, history_seq=?, outputs=?, meta=?, messages=? "
                "WHERE prompt_id=? AND history_seq IS NULL",
                (state, finished, self._history_seq, *texts, prompt_id),
            ).rowcount
            if changed:
                self._history_count += 1
                self._prune(conn)

        return self.submit(write)

    def _prune(self, conn: sqlite3.Connection) -> None:
        excess = self._history_count - self.history_size
        if excess > 0:
            conn.execute(
                "DELETE FROM jobs WHERE prompt_id IN (SELECT prompt_id FROM jobs "
                "WHERE history_seq IS NOT NULL ORDER BY history_seq LIMIT ?)",
                (excess,),
            )
            self._history_count -= excess

    def requeue(self, prompt_id: str, note: Any) -> Future[None]:
        """Put a job that was running back in the queue, recording ``note`` for its history messages."""

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE jobs SET state='pending', attempts=attempts+1, started=NULL, "
                "notes=json_insert(notes, '$[#]', json(?)) WHERE prompt_id=? AND history_seq IS NULL",
                (json.dumps(note), prompt_id),
            )

        return self.submit(write)

    def delete_history(self, prompt_ids: Iterable[str] | None) -> Future[int]:
        """Delete these history entries (all of them for ``None``); queued jobs are never touched."""
        ids = None if prompt_ids is None else list(prompt_ids)

        def delete(conn: sqlite3.Connection) -> int:
            if ids is None:
                count = conn.execute("DELETE FROM jobs WHERE history_seq IS NOT NULL").rowcount
            else:
                count = conn.executemany(
                    "DELETE FROM jobs WHERE prompt_id=? AND history_seq IS NOT NULL", [(i,) for i in ids]
                ).rowcount
            self._history_count -= count
            return count

        return self.submit(delete)

    # -- start-up --------------------------------------------------------------------------------------
    def recover(self, note: Callable[[str, int], Any]) -> list[StoredJob]:
        """Re-queue jobs that were running when the process stopped, then return every queued job.

        ``note(prompt_id, timestamp)`` makes the history message recorded for each re-queued job.
        """
        from graphflow.events import now_ms

        def reset(conn: sqlite3.Connection) -> None:
            stamp = now_ms()
            rows = conn.execute(
                "SELECT prompt_id FROM jobs WHERE state='running' AND history_seq IS NULL"
            ).fetchall()
            for (prompt_id,) in rows:
                conn.execute(
                    "UPDATE jobs SET state='pending', attempts=attempts+1, started=NULL, "
                    "notes=json_insert(notes, '$[#]', json(?)) WHERE prompt_id=?",
                    (json.dumps(note(prompt_id, stamp)), prompt_id),
                )

        self.submit(reset).result()
        rows = (
            self._reader()
            .execute(
                "SELECT prompt_id, counter, number, number_is_float, prompt, extra_data, outputs_to_execute, "
                "created, attempts, notes FROM jobs WHERE history_seq IS NULL ORDER BY number, prompt_id"
            )
            .fetchall()
        )
        return [
            StoredJob(
                r[0],
                r[1],
                r[2],
                bool(r[3]),
                json.loads(r[4]),
                json.loads(r[5]),
                json.loads(r[6]),
                r[7],
                r[8],
                json.loads(r[9]),
            )
            for r in rows
        ]

    # -- reading ---------------------------------------------------------------------------------------
    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True, timeout=30)
            conn.execute("PRAGMA query_only=1")
            self._local.conn = conn
        return conn

    def exists(self, prompt_id: str) -> bool:
        return (
            self._reader().execute("SELECT 1 FROM jobs WHERE prompt_id=?", (prompt_id,)).fetchone()
            is not None
        )

    def history_count(self) -> int:
        return self._reader().execute("SELECT COUNT(*) FROM jobs WHERE history_seq IS NOT NULL").fetchone()[0]

    def history(self, offset: int = 0, limit: int | None = None) -> list[HistoryRow]:
        """Finished prompts in the order they finished (oldest first), ``offset``/``limit`` applied."""
        rows = self._reader().execute(
            f"SELECT {HISTORY_COLUMNS} FROM jobs WHERE history_seq IS NOT NULL ORDER BY history_seq "
            "LIMIT ? OFFSET ?",
            (-1 if limit is None else limit, offset),
        )
        return [HistoryRow(*row) for row in rows]

    def history_entry(self, prompt_id: str) -> HistoryRow | None:
        row = (
            self._reader()
            .execute(
                f"SELECT {HISTORY_COLUMNS} FROM jobs WHERE prompt_id=? AND history_seq IS NOT NULL",
                (prompt_id,),
            )
            .fetchone()
        )
        return HistoryRow(*row) if row else None

    def finished_jobs(
        self, states: Iterable[str], *, newest_first: bool = True, limit: int = -1
    ) -> tuple[list[HistoryRow], int]:
        """Finished prompts in these states (for ``/jobs``) by creation time, and how many there are."""
        wanted = sorted({s for s in states if s in FINISHED_STATES})
        if not wanted:
            return [], 0
        marks = ",".join("?" * len(wanted))
        where = f"history_seq IS NOT NULL AND state IN ({marks})"
        order = "DESC" if newest_first else "ASC"
        conn = self._reader()
        total = conn.execute(f"SELECT COUNT(*) FROM jobs WHERE {where}", wanted).fetchone()[0]
        rows = conn.execute(
            f"SELECT {HISTORY_COLUMNS} FROM jobs WHERE {where} ORDER BY created {order}, history_seq {order} "
            "LIMIT ?",
            (*wanted, limit),
        )
        return [HistoryRow(*row) for row in rows], total
