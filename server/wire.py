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
import json
import math
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
        # progress_state is the hot path (two per node): each running node's JSON is rendered once
        self._fragments: dict[str, str] = {}
        self._prompt_json = _json(self.prompt_id)
        self._state_head = '{"type":"progress_state","data":{"prompt_id":' + self._prompt_json + ',"nodes":{'
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
        """Post the running nodes plus ``changed`` (a node that just finished)."""
        fragments = self._fragments
        if changed is not None and changed["node_id"] not in fragments:
            body = ",".join((*fragments.values(), _fragment(changed)))
        elif changed is not None:
            body = ",".join(
                _fragment(changed) if k == changed["node_id"] else v for k, v in fragments.items()
            )
        else:
            body = ",".join(fragments.values())
        self.hub.post(self.client, self._state_head + body + "}}}", fallback_all=True)

    def _set_running(self, state: dict[str, Any]) -> None:
        self.running[state["node_id"]] = state
        self._fragments[state["node_id"]] = _fragment(state)

    def _clear_running(self) -> None:
        self.running.clear()
        self._fragments.clear()

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
        if event.node_id not in self.running:  # a lazy node resuming keeps its running state
            self._set_running(
                self._state(event.node_id, event.display_node_id, event.parent_node_id, event.real_node_id)
            )
        self.job.current_node = event.display_node_id
        self._progress_state()
        if self.client is not None:
            self.hub.post(
                self.client,
                f'{{"type":"executing","data":{{"node":{_json_id(event.node_id)},'
                f'"display_node":{_json_id(event.display_node_id)},"prompt_id":{self._prompt_json}}}}}',
            )

    def progress(self, event: Progress) -> None:
        state = self.running.get(event.node_id) or self._state(
            event.node_id, event.display_node_id, None, None
        )
        state["value"], state["max"] = event.value, event.max
        self._set_running(state)
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
        self._fragments.pop(event.node_id, None)
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
            self._clear_running()
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
        self._clear_running()
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


_json = json.JSONEncoder(separators=(",", ":")).encode
_PLAIN_ID = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:._-")


def _json_id(value: str | None) -> str:
    """JSON for a node id; ids are nearly always plain, so skip the encoder for those."""
    if value is not None and value and _PLAIN_ID.issuperset(value):
        return f'"{value}"'
    return _json(value)


def _number(value: Any) -> str:
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return repr(value)
    return "null" if isinstance(value, float) else _json(value)  # NaN is not JSON


def _fragment(state: dict[str, Any]) -> str:
    """``"<id>":{...}`` of one node's progress state, rendered by hand (it is sent twice per node)."""
    node = _json_id(state["node_id"])
    return (
        f'{node}:{{"value":{_number(state["value"])},"max":{_number(state["max"])},'
        f'"state":"{state["state"]}","node_id":{node},"prompt_id":{_json(state["prompt_id"])},'
        f'"display_node_id":{_json_id(state["display_node_id"])},'
        f'"parent_node_id":{_json_id(state["parent_node_id"])},"real_node_id":{_json_id(state["real_node_id"])}}}'
    )


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
