"""Stand-in for ``comfy_execution.graph``: ``ExecutionBlocker`` and the live-graph view behind DYNPROMPT.

``ExecutionBlocker`` *is* :class:`graphflow.values.ExecutionBlocker`, so a blocker a classic node returns
is the one graphflow's scheduler understands. :class:`DynamicPrompt` is what a node declaring the hidden
input ``"DYNPROMPT"`` receives: the graph as it runs, including nodes created by expansion (loop nodes walk
it to copy their body).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from graphflow.values import ExecutionBlocker

if TYPE_CHECKING:
    from graphflow.graph import GraphNode

__all__ = ["DependencyCycleError", "DynamicPrompt", "ExecutionBlocker", "NodeInputError", "NodeNotFoundError"]


class NodeNotFoundError(Exception):
    """The live graph has no node with that id."""


class NodeInputError(Exception):
    """A node's inputs are not what its type declares."""


class DependencyCycleError(Exception):
    """Nodes depend on each other in a cycle (raised by graphflow as an error of the expanding node)."""


class DynamicPrompt:
    """Read-only view of the running graph.

    ``nodes`` are the scheduler's validated nodes (submitted and expanded); without them (a node called
    outside the scheduler) the view falls back to the submitted prompt.
    """

    def __init__(self, nodes: Mapping[str, GraphNode] | None, original_prompt: Mapping[str, Any]) -> None:
        self._nodes = nodes
        self._original = original_prompt

    def get_original_prompt(self) -> Mapping[str, Any]:
        return self._original

    def has_node(self, node_id: str) -> bool:
        return node_id in (self._nodes if self._nodes is not None else self._original)

    def all_node_ids(self) -> set[str]:
        return set(self._nodes if self._nodes is not None else self._original)

    def get_node(self, node_id: str) -> dict[str, Any]:
        """``{"class_type", "inputs"}`` of a node; links appear as ``[source_id, output_index]``."""
        if self._nodes is None:
            if node_id not in self._original:
                raise NodeNotFoundError(f"Node {node_id} not found")
            return self._original[node_id]
        node = self._nodes.get(node_id)
        if node is None:
            raise NodeNotFoundError(f"Node {node_id} not found")
        inputs: dict[str, Any] = dict(node.constants)
        inputs.update({name: [src, slot] for name, (src, slot) in node.links.items()})
        found: dict[str, Any] = {"class_type": node.spec.class_type, "inputs": inputs}
        if node.parent is not None and node.display_id is not None:
            found["override_display_id"] = node.display_id
        return found

    def get_parent_node_id(self, node_id: str) -> str | None:
        node = self._nodes.get(node_id) if self._nodes is not None else None
        return node.parent if node is not None else None

    def get_real_node_id(self, node_id: str) -> str:
        """The submitted node an expanded node ultimately came from (itself for submitted nodes)."""
        seen = set()
        while node_id not in seen:
            seen.add(node_id)
            parent = self.get_parent_node_id(node_id)
            if parent is None:
                return node_id
            node_id = parent
        return node_id

    def get_display_node_id(self, node_id: str) -> str:
        node = self._nodes.get(node_id) if self._nodes is not None else None
        return (node.display_id or node_id) if node is not None else node_id
