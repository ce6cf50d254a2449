"""One prompt's executor events as ComfyUI WebSocket messages, plus what its history entry records.

Targeting follows comfy-wire.md §4.3: run events go to the submitting client only (nowhere without one);
progress, ``progress_state`` and previews go to that client or, without one, to everybody;
``execution_interrupted`` likewise.

``progress_state`` is bounded. ComfyUI re-sends the state of every node started so far on every update,
which grows quadratically with the node count (771 MiB for a 2001-node chain). Front end 1.58.1
(``executionStore``: ``applyProgressState``) *replaces* its per-prompt map with each message and derives
everything from it: the green outline, the canvas progress bar and the title count use only nodes whose
``state`` is ``"running"``; the minimap strokes ``"finished"`` nodes until the prompt ends, when the map is
cleared anyway. So each message here carries the nodes running right now plus the node that just changed;
its size is bounded by how many nodes run at once, and total traffic is linear in the node count.
"""

from __future__ import annotations

import io
from typing import Any

from graphflow.events import (
    ExecutionCached,
    ExecutionError,
    ExecutionInterrupted,
    ExecutionStart,
    ExecutionSuccess,
    NodeFinished,
    NodeStarted,
    Progress,
    now_ms,
)

from .hub import Hub, PreviewFrame, message
from .jobs import Job


def encode_preview(image: Any, max_side: int, quality: int = 85) -> bytes | None:
    """A PIL image as JPEG bytes, the longest side at most ``max_side``; None if it is not an image."""
    if not hasattr(image, "save") or not hasattr(image, "size"):
        return None
    width, height = image.size
    if max(width, height) > max_side:
        scale = max_side / max(width, height)
        image = image.resize((max(1, round(width * scale)), max(1, round(height * scale))))
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


class PromptWire:
    """Call it with each event of one run (on the worker thread); it posts messages to the hub."""

    def __init__(self, job: Job, hub: Hub, preview_size: int = 512) -> None:
        self.job = job
        self.hub = hub
        self.prompt_id = job.prompt_id
        self.client = job.client_id
        self.preview_size = preview_size
        self.running: dict[str, dict[str, Any]] = {}
        self.messages: list[list[Any]] = []
        self.meta: dict[str, dict[str, Any]] = {}

    # -- posting helpers -------------------------------------------------------------------------------
    def _to_client(self, kind: str, data: dict[str, Any]) -> None:
        if self.client is not None:
            self.hub.post(self.client, message(kind, data))

    def _to_client_or_all(self, kind: str, data: dict[str, Any]) -> None:
        self.hub.post(self.client, message(kind, data), fallback_all=True)

    def _record(self, kind: str, data: dict[str, Any]) -> None:
        self.messages.append([kind, data])

    def _progress_state(self, changed: dict[str, Any] | None = None) -> None:
        nodes = dict(self.running)
        if changed is not None:
            nodes[changed["node_id"]] = changed
        self._to_client_or_all("progress_state", {"prompt_id": self.prompt_id, "nodes": nodes})

    def _state(self, node_id: str, display: str, parent: str | None, real: str | None) -> dict[str, Any]:
        return {
            "value": 0.0,
            "max": 1.0,
            "state": "running",
            "node_id": node_id,
            "prompt_id": self.prompt_id,
            "display_node_id": display,
            "parent_node_id": parent,
            "real_node_id": real or node_id,
        }

    # -- events ----------------------------------------------------------------------------------------
    def __call__(self, event: Any) -> None:
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    def start(self, event: ExecutionStart) -> None:
        data = {"prompt_id": self.prompt_id, "timestamp": event.timestamp}
        self._record("execution_start", data)
        self._to_client("execution_start", data)

    def cached(self, event: ExecutionCached) -> None:
        data = {"nodes": list(event.nodes), "prompt_id": self.prompt_id, "timestamp": event.timestamp}
        self._record("execution_cached", data)
        self._to_client("execution_cached", data)

    def node_started(self, event: NodeStarted) -> None:
        state = self.running.get(event.node_id)
        if state is None:  # a lazy node resuming keeps its running state
            state = self._state(
                event.node_id, event.display_node_id, event.parent_node_id, event.real_node_id
            )
            self.running[event.node_id] = state
        self.job.current_node = event.display_node_id
        self._progress_state()
        self._to_client(
            "executing",
            {"node": event.node_id, "display_node": event.display_node_id, "prompt_id": self.prompt_id},
        )

    def progress(self, event: Progress) -> None:
        state = self.running.get(event.node_id)
        if state is None:
            state = self._state(event.node_id, event.display_node_id, None, None)
            self.running[event.node_id] = state
        state["value"], state["max"] = event.value, event.max
        text = message(
            "progress",
            {"value": event.value, "max": event.max, "prompt_id": self.prompt_id, "node": event.node_id},
        )
        jpeg = encode_preview(event.preview, self.preview_size) if event.preview is not None else None
        if jpeg is None:
            self.hub.post(self.client, text, fallback_all=True)
        else:
            metadata = {
                "node_id": event.node_id,
                "prompt_id": self.prompt_id,
                "display_node_id": event.display_node_id,
                "parent_node_id": state["parent_node_id"],
                "real_node_id": state["real_node_id"],
                "image_type": "image/jpeg",
            }
            self.hub.post(self.client, PreviewFrame(jpeg, metadata, text), fallback_all=True)
        self._progress_state()

    def node_finished(self, event: NodeFinished) -> None:
        state = self.running.pop(event.node_id, None) or self._state(
            event.node_id, event.display_node_id, event.parent_node_id, event.real_node_id
        )
        done_at = state["max"] if state["max"] else 1.0
        state = {**state, "state": "finished", "value": done_at, "max": done_at}
        if event.ui is not None:
            self.meta[event.node_id] = {
                "node_id": event.node_id,
                "display_node": event.display_node_id,
                "parent_node": event.parent_node_id,
                "real_node_id": event.real_node_id or event.node_id,
            }
            self._to_client(
                "executed",
                {
                    "node": event.node_id,
                    "display_node": event.display_node_id,
                    "output": event.ui,
                    "prompt_id": self.prompt_id,
                },
            )
        self._progress_state(state)

    def success(self, event: ExecutionSuccess) -> None:
        data = {"prompt_id": self.prompt_id, "timestamp": event.timestamp}
        self._record("execution_success", data)
        self._to_client("execution_success", data)

    def error(self, event: ExecutionError) -> None:
        data = {
            "prompt_id": self.prompt_id,
            "node_id": event.display_node_id,
            "node_type": event.node_type,
            "executed": list(event.executed),
            "exception_message": event.exception_message,
            "exception_type": event.exception_type,
            "traceback": list(event.traceback),
            "current_inputs": event.current_inputs,
            "current_outputs": list(event.current_outputs),
            "timestamp": event.timestamp,
        }
        if not event.blocked:  # a blocked node is reported, but the run (and the running state) goes on
            self.running.clear()
        self._record("execution_error", data)
        self._to_client("execution_error", data)

    def interrupted(self, event: ExecutionInterrupted) -> None:
        data = {
            "prompt_id": self.prompt_id,
            "node_id": event.node_id,
            "node_type": event.node_type,
            "executed": list(event.executed),
            "timestamp": event.timestamp,
        }
        if event.reason:
            data["reason"] = event.reason
        self.running.clear()
        self._record("execution_interrupted", data)
        self._to_client_or_all("execution_interrupted", data)

    def replay(self, messages: list[list[Any]]) -> None:
        """Send recorded ``[kind, data]`` messages to the client (a prompt that failed before running)."""
        for kind, data in messages:
            self._to_client(kind, data)

    def done(self) -> None:
        """The final ``executing`` with node null: post it only after history and ``status``."""
        self._to_client("executing", {"node": None, "prompt_id": self.prompt_id})


def failure_messages(job: Job, kind: str, message_text: str) -> list[list[Any]]:
    """History messages for a prompt that could not run at all (e.g. invalid after a restart)."""
    stamp = now_ms()
    return [
        ["execution_start", {"prompt_id": job.prompt_id, "timestamp": stamp}],
        [
            "execution_error",
            {
                "prompt_id": job.prompt_id,
                "node_id": None,
                "node_type": None,
                "executed": [],
                "exception_message": message_text,
                "exception_type": kind,
                "traceback": [],
                "current_inputs": {},
                "current_outputs": [],
                "timestamp": stamp,
            },
        ],
    ]


_HANDLERS = {
    ExecutionStart: PromptWire.start,
    ExecutionCached: PromptWire.cached,
    NodeStarted: PromptWire.node_started,
    Progress: PromptWire.progress,
    NodeFinished: PromptWire.node_finished,
    ExecutionSuccess: PromptWire.success,
    ExecutionError: PromptWire.error,
    ExecutionInterrupted: PromptWire.interrupted,
}
