"""Typed events a run emits, and the subscriber protocol (the CLI, the server and tests listen).

Events mirror ComfyUI's WebSocket messages closely enough that the server maps each to its wire form, and
carry one thing more: *why* a node ran or came from cache.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(slots=True)
class ExecutionStart:
    prompt_id: str
    timestamp: int = field(default_factory=now_ms)


@dataclass(slots=True)
class ExecutionCached:
    """Nodes whose results came from cache (they will not run); ``reasons`` says why per node."""

    prompt_id: str
    nodes: list[str]
    reasons: dict[str, str]
    timestamp: int = field(default_factory=now_ms)


@dataclass(slots=True)
class NodeStarted:
    """A node begins (or, after its lazy inputs ran, resumes). ``reason`` says why it is not cached."""

    prompt_id: str
    node_id: str
    display_node_id: str
    class_type: str
    reason: str
    parent_node_id: str | None = None
    real_node_id: str | None = None


@dataclass(slots=True)
class Progress:
    prompt_id: str
    node_id: str
    display_node_id: str
    value: int
    max: int
    preview: Any = None  # a PIL image, or None


@dataclass(slots=True)
class NodeFinished:
    """A node produced its result; ``ui`` is shown in the editor (``executed``); ``cached`` for replays."""

    prompt_id: str
    node_id: str
    display_node_id: str
    class_type: str
    ui: dict[str, list[Any]] | None
    cached: bool = False
    parent_node_id: str | None = None
    real_node_id: str | None = None


@dataclass(slots=True)
class ExecutionSuccess:
    prompt_id: str
    timestamp: int = field(default_factory=now_ms)


@dataclass(slots=True)
class ExecutionError:
    """A node raised (or a blocker with a message stopped it, ``blocked=True``: the run goes on)."""

    prompt_id: str
    node_id: str
    display_node_id: str
    node_type: str
    executed: list[str]
    exception_type: str
    exception_message: str
    traceback: list[str]
    current_inputs: dict[str, list[str]]
    current_outputs: list[str]
    blocked: bool = False
    timestamp: int = field(default_factory=now_ms)


@dataclass(slots=True)
class ExecutionInterrupted:
    prompt_id: str
    node_id: str | None
    node_type: str | None
    executed: list[str]
    reason: str = ""
    timestamp: int = field(default_factory=now_ms)


Event = (
    ExecutionStart
    | ExecutionCached
    | NodeStarted
    | Progress
    | NodeFinished
    | ExecutionSuccess
    | ExecutionError
    | ExecutionInterrupted
)
Subscriber = Callable[[Event], None]


class EventFanout:
    """Calls every subscriber for each event; a failing subscriber is dropped, never the run."""

    __slots__ = ("subscribers",)

    def __init__(self, subscribers: list[Subscriber] | None = None) -> None:
        self.subscribers = list(subscribers or [])

    def __call__(self, event: Event) -> None:
        for subscriber in tuple(self.subscribers):
            try:
                subscriber(event)
            except Exception:  # an observer bug must not break execution
                logging.getLogger(__name__).exception("event subscriber %r failed; removing it", subscriber)
                self.subscribers.remove(subscriber)
