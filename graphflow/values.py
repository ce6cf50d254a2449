"""Small value types shared by node runners and the scheduler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class NodeResult:
    """What one call of a node produced.

    ``outputs`` has one value per declared output (for list outputs, a list). ``ui`` is the data shown in
    the editor and stored in history (``{"images": [...]}``, ``{"text": [...]}``). ``expand`` is an
    API-format graph of new nodes the node wants to run in its place; entries of ``outputs`` may then be
    links ``[node_id, slot]`` into that graph.
    """

    outputs: tuple[Any, ...] = ()
    ui: dict[str, list[Any]] | None = None
    expand: dict[str, dict[str, Any]] | None = None


class ExecutionBlocker:
    """Put in place of a value to stop every node that would consume it.

    With a message, the first consumer reports it as an ``ExecutionBlocked`` error and the prompt goes on;
    with ``None`` the block is silent.
    """

    __slots__ = ("message",)

    def __init__(self, message: str | None = None) -> None:
        self.message = message

    def __repr__(self) -> str:
        return f"ExecutionBlocker({self.message!r})"


def is_link(value: Any) -> bool:
    """ComfyUI's link shape: a 2-element list or tuple ``[node_id: str, output_index: int]``."""
    return (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
    )
