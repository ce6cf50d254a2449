"""A worker thread: takes prompts from the queue and runs them with its own executor (one per device).

Per prompt: mark it running (durably, without waiting), run it while :class:`~.wire.PromptWire` turns
events into messages, write the history entry and wait for the commit, then release it from the queue
(``status``) and only then send the final ``executing`` with node null, so a client that reads history on
that signal always finds the entry.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphflow.events import NodeStarted, now_ms
from graphflow.scheduler import Executor

from .wire import PromptWire, failure_messages

if TYPE_CHECKING:
    from .jobs import Job
    from .state import ServerState

log = logging.getLogger(__name__)

SHUTDOWN_REASON = "the server is shutting down; the prompt will run again when it restarts"
GC_INTERVAL_SECONDS = 10.0


def requeue_note(prompt_id: str, timestamp: int, reason: str) -> list[Any]:
    """The history message recorded for a prompt that ran again after the server stopped mid-run."""
    return ["execution_requeued", {"prompt_id": prompt_id, "timestamp": timestamp, "reason": reason}]


@dataclass
class FreeRequest:
    unload_models: bool = False
    free_memory: bool = False


class Worker(threading.Thread):
    """Runs queued prompts one at a time on ``device`` (None: the runtime's default)."""

    def __init__(self, state: ServerState, device: str | None = None, index: int = 0) -> None:
        super().__init__(name=f"graphflow-worker-{index}", daemon=True)
        self.state = state
        self.device = device
        self.executor = Executor(state.runtime)
        self.stopping = False
        self.free_request = FreeRequest()
        self._free_lock = threading.Lock()
        self._last_gc = time.monotonic()

    def request_free(self, unload_models: bool, free_memory: bool) -> None:
        with self._free_lock:
            self.free_request.unload_models |= unload_models
            self.free_request.free_memory |= free_memory

    def stop(self) -> None:
        self.stopping = True
        for job in self.state.queue.running():
            job.cancel.cancel(SHUTDOWN_REASON)

    # -- the loop ------------------------------------------------------------------------------------
    def run(self) -> None:
        queue = self.state.queue
        while not self.stopping:
            job = queue.take(timeout=1.0)
            self._apply_free()  # a /free request applies before the next prompt, or within a second if idle
            if job is None:
                continue
            try:
                self.run_job(job)
            except Exception:  # a bug here must not kill the worker; the prompt is recorded as failed
                log.exception("the worker failed while running prompt %s", job.prompt_id)
                self._record_failure(job, "graphflow.InternalError", "graphflow failed while running it")
            self._maybe_collect()

    def run_job(self, job: Job) -> None:
        state = self.state
        job.started = now_ms()
        state.store.mark_running(job.prompt_id, job.started)
        graph = job.graph
        job.graph = None  # the graph holds coerced inputs only this run needs
        if graph is None:  # accepted before a restart: validate again with today's nodes
            graph, report = self.executor.validate(job.prompt, job.outputs_to_execute)
            if graph is None:
                text = "; ".join(report.text_lines()) or "the prompt is no longer valid"
                self._record_failure(job, "graphflow.ValidationError", text)
                return
        wire = PromptWire(job, state.hub, state.config.preview_size)
        on_event = wire
        server = state.prompt_server
        if server is not None:  # packs read PromptServer.instance.client_id / last_node_id
            server.client_id = job.client_id

            def on_event(event: Any) -> None:
                wire(event)
                if type(event) is NodeStarted:
                    server.last_node_id = event.display_node_id

        outcome = self.executor.execute(
            graph,
            prompt_id=job.prompt_id,
            extra_data=job.extra_data,
            on_event=on_event,
            cancel=job.cancel,
        )
        if outcome.status == "interrupted" and job.cancel.reason == SHUTDOWN_REASON:
            note = requeue_note(job.prompt_id, now_ms(), "the server shut down while it ran")
            state.store.requeue(job.prompt_id, note).result()
            return
        state.store.finish(
            job.prompt_id,
            outcome.status,  # "success" | "error" | "interrupted"
            outputs=outcome.outputs,
            meta={nid: wire.meta.get(nid) or _meta(nid) for nid in outcome.outputs},
            messages=[*job.notes, *wire.messages],
            finished=now_ms(),
        ).result()
        state.queue.done(job)
        wire.done()

    def _record_failure(self, job: Job, kind: str, text: str) -> None:
        state = self.state
        messages = [*job.notes, *failure_messages(job, kind, text)]
        try:
            state.store.finish(
                job.prompt_id, "error", outputs={}, meta={}, messages=messages, finished=now_ms()
            ).result()
        except Exception:
            log.exception("could not record the failure of prompt %s", job.prompt_id)
        state.queue.done(job)
        wire = PromptWire(job, state.hub)
        wire.replay(messages[-2:])
        wire.done()

    # -- housekeeping ----------------------------------------------------------------------------------
    def _apply_free(self) -> None:
        with self._free_lock:
            request, self.free_request = self.free_request, FreeRequest()
        if request.free_memory:
            self.executor.cache.clear()
        if request.unload_models or request.free_memory:
            runtime = self.state.runtime
            models = runtime.__dict__.get("models")  # only if a model manager was ever created
            unload = getattr(models, "unload_all", None)
            if callable(unload):
                unload()
            gc.collect()

    def _maybe_collect(self) -> None:
        if time.monotonic() - self._last_gc > GC_INTERVAL_SECONDS:
            gc.collect()
            self._last_gc = time.monotonic()


def _meta(node_id: str) -> dict[str, Any]:
    return {"node_id": node_id, "display_node": node_id, "parent_node": None, "real_node_id": node_id}
