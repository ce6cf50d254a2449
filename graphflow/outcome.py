"""RunOutcome: what one run of a graph did (the CLI and the server report from it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphflow.events import ExecutionError, ExecutionInterrupted


@dataclass
class RunOutcome:
    """What a run did. ``outputs`` maps node id → ``ui`` data (images, text) of nodes that have some."""

    prompt_id: str
    status: str  # "success" | "error" | "interrupted"
    executed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    outputs: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    error: ExecutionError | None = None
    interrupted: ExecutionInterrupted | None = None
    seconds: float = 0.0
    values: dict[str, list[list[Any]]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "success"
