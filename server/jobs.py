"""Queued prompts in memory: the priority queue the workers take from, mirrored durably by the store.

Order is ComfyUI's: the lowest ``number`` first, ties broken by prompt id. Every change of the queue
calls ``on_change(remaining)`` *while holding the queue lock*, so the ``status`` messages it produces are
posted in exactly the order the changes happened (before the worker's first event for a prompt).
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from graphflow.context import CancelToken

#: ``extra_data`` keys never stored or shown back (ComfyUI strips them before history).
SECRET_EXTRA_KEYS = ("auth_token_comfy_org", "api_key_comfy_org")


@dataclass(eq=False)
class Job:
    """One accepted prompt. ``graph`` is the validated graph when it was accepted in this process."""

    prompt_id: str
    number: float
    number_is_float: bool
    counter: int
    prompt: dict[str, Any]
    extra_data: dict[str, Any]
    outputs_to_execute: list[str]
    created: int
    graph: Any = None
    attempts: int = 0
    notes: list[Any] = field(default_factory=list)
    cancel: CancelToken = field(default_factory=CancelToken)
    started: int | None = None
    current_node: str | None = None

    @property
    def client_id(self) -> str | None:
        client = self.extra_data.get("client_id")
        return client if isinstance(client, str) and client else None

    @property
    def number_json(self) -> float | int:
        return float(self.number) if self.number_is_float else int(self.number)

    def public_extra_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.extra_data.items() if k not in SECRET_EXTRA_KEYS}

    def queue_item(self) -> list[Any]:
        """ComfyUI's 5-array ``[number, prompt_id, prompt, extra_data, outputs_to_execute]``."""
        return [
            self.number_json,
            self.prompt_id,
            self.prompt,
            self.public_extra_data(),
            self.outputs_to_execute,
        ]


class PromptQueue:
    """Pending jobs by priority plus the running ones; workers block in :meth:`take`."""

    def __init__(self, on_change: Callable[[int], None] | None = None) -> None:
        self._heap: list[tuple[float, str, int, Job]] = []
        self._pending: dict[str, Job] = {}
        self._running: dict[str, Job] = {}
        self._tiebreak = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._on_change = on_change or (lambda remaining: None)

    def _changed(self) -> None:
        self._on_change(len(self._pending) + len(self._running))

    @property
    def remaining(self) -> int:
        with self._cond:
            return len(self._pending) + len(self._running)

    def put(self, job: Job) -> None:
        with self._cond:
            heapq.heappush(self._heap, (job.number, job.prompt_id, next(self._tiebreak), job))
            self._pending[job.prompt_id] = job
            self._changed()
            self._cond.notify()

    def take(self, timeout: float | None = None) -> Job | None:
        """The next job (now counted as running), or None on timeout or when the queue is closed."""
        with self._cond:
            while True:
                while self._heap:
                    *_, job = heapq.heappop(self._heap)
                    if self._pending.get(job.prompt_id) is job:
                        del self._pending[job.prompt_id]
                        self._running[job.prompt_id] = job
                        self._changed()
                        return job
                if self._closed or not self._cond.wait(timeout):
                    return None

    def done(self, job: Job) -> None:
        with self._cond:
            if self._running.pop(job.prompt_id, None) is not None:
                self._changed()

    def cancel(self, prompt_ids: Iterable[str] | None, reason: str) -> tuple[list[Job], list[Job]]:
        """Remove pending jobs and signal running ones (``None`` = all pending, no running).

        Returns ``(removed_pending, signalled_running)``.
        """
        with self._cond:
            ids = list(self._pending) if prompt_ids is None else list(prompt_ids)
            removed = [self._pending.pop(i) for i in ids if i in self._pending]
            running = [] if prompt_ids is None else [self._running[i] for i in ids if i in self._running]
            for job in running:
                job.cancel.cancel(reason)
            if removed:
                self._heap = [entry for entry in self._heap if self._pending.get(entry[1]) is entry[3]]
                heapq.heapify(self._heap)
                self._changed()
            return removed, running

    def interrupt_running(self, reason: str) -> list[Job]:
        with self._cond:
            for job in self._running.values():
                job.cancel.cancel(reason)
            return list(self._running.values())

    def running(self) -> list[Job]:
        with self._cond:
            return list(self._running.values())

    def pending(self) -> list[Job]:
        """Pending jobs in heap order (as ComfyUI's ``GET /queue`` shows them: not sorted)."""
        with self._cond:
            return [job for *_, job in self._heap if self._pending.get(job.prompt_id) is job]

    def find(self, prompt_id: str) -> tuple[str, Job] | None:
        with self._cond:
            if prompt_id in self._running:
                return "running", self._running[prompt_id]
            if prompt_id in self._pending:
                return "pending", self._pending[prompt_id]
            return None

    def running_for_client(self, client_id: str) -> Job | None:
        with self._cond:
            for job in self._running.values():
                if job.client_id == client_id:
                    return job
            return None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
