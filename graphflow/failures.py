"""What a failed (or blocked) node reports: the ``ExecutionError`` event, built from the exception and the
node's inputs, with ComfyUI's field meanings."""

from __future__ import annotations

import traceback as tb
from typing import TYPE_CHECKING, Any

from graphflow.events import ExecutionError

if TYPE_CHECKING:
    from graphflow.scheduler import _Run


def failure_event(
    run: _Run, nid: str, error: BaseException | None, blocked: str | None = None
) -> ExecutionError:
    """The error event for node ``nid``: ``error`` raised, or a blocker with message ``blocked`` stopped it."""
    node = run.nodes.get(nid)
    inputs = {}
    if node is not None:
        inputs = {name: [_short_repr(v)] for name, v in node.constants.items()}
        for name, (src, slot) in node.links.items():
            if src in run.values:
                inputs[name] = [_short_repr(v) for v in run.values[src][slot][:4]]
    if blocked is not None:
        kind, message, trace = "ExecutionBlocked", blocked, []
    else:
        kind = _qualified_name(type(error))
        message = str(error)
        trace = tb.format_exception(type(error), error, error.__traceback__)
    return ExecutionError(
        run.prompt_id,
        nid,
        (node.display_id or nid) if node else nid,
        node.spec.class_type if node else "",
        list(run.outcome.executed),
        kind,
        message,
        trace,
        inputs,
        list(run.nodes),
        blocked=blocked is not None,
    )


def _qualified_name(kind: type) -> str:
    module = kind.__module__
    return kind.__qualname__ if module in ("builtins", "__main__") else f"{module}.{kind.__qualname__}"


def _short_repr(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
