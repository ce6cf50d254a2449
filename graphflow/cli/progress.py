"""Progress bars for ``graphflow run`` (on stderr, so ``--json`` output stays clean)."""

from __future__ import annotations

import sys
from typing import Any

from graphflow.events import Event, ExecutionCached, NodeFinished, NodeStarted, Progress


class ProgressBars:
    """A bar counting nodes, and a bar per node that reports steps (samplers)."""

    def __init__(self, label: str = "") -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self.nodes = tqdm(
            desc=label or "nodes", unit="node", file=sys.stderr, leave=False, dynamic_ncols=True
        )
        self.steps: Any = None
        self._step_node: str | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, ExecutionCached) and event.nodes:
            self.nodes.set_postfix_str(f"{len(event.nodes)} cached")
        elif isinstance(event, NodeStarted):
            self.nodes.set_description_str(f"{event.class_type} (node {event.display_node_id})")
        elif isinstance(event, Progress):
            if self._step_node != event.node_id or self.steps is None:
                self._close_steps()
                self.steps = self._tqdm(
                    total=event.max,
                    desc=f"  node {event.display_node_id}",
                    unit="step",
                    file=sys.stderr,
                    leave=False,
                )
                self._step_node = event.node_id
            self.steps.total = event.max
            self.steps.n = event.value
            self.steps.refresh()
        elif isinstance(event, NodeFinished) and not event.cached:
            self._close_steps()
            self.nodes.update(1)

    def _close_steps(self) -> None:
        if self.steps is not None:
            self.steps.close()
            self.steps = None
            self._step_node = None

    def close(self) -> None:
        self._close_steps()
        self.nodes.close()
