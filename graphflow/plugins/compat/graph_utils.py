"""Stand-in for ``comfy_execution.graph_utils``: build the graph a node returns for node expansion.

Usage in a classic pack::

    graph = GraphBuilder()
    doubled = graph.node("IntMultiply", a=value, b=2)    # id "<node>.<call>.<graph>.1"
    return {"result": (doubled.out(0),), "expand": graph.finalize()}

Without an explicit prefix a builder takes the default one of the node call in progress, so expanded ids
are deterministic (``"5.0.0.1"``: node 5, first call, first builder, first node) and never collide with
ids the user wrote.
"""

from __future__ import annotations

from typing import Any

from graphflow.plugins.current import id_prefix
from graphflow.values import is_link

__all__ = ["GraphBuilder", "Node", "add_graph_prefix", "is_link"]


class Node:
    """One node of a graph being built: its (prefixed) id, class and inputs."""

    def __init__(self, id: str, class_type: str, inputs: dict[str, Any]) -> None:
        self.id = id
        self.class_type = class_type
        self.inputs = inputs
        self.override_display_id: str | None = None

    def out(self, index: int) -> list[Any]:
        """A link to output ``index`` of this node, usable as another node's input or as a result."""
        return [self.id, index]

    def set_input(self, key: str, value: Any) -> None:
        """Set an input; ``None`` removes it."""
        if value is None:
            self.inputs.pop(key, None)
        else:
            self.inputs[key] = value

    def get_input(self, key: str) -> Any:
        return self.inputs.get(key)

    def set_override_display_id(self, override_display_id: str) -> None:
        """Highlight this other node in the editor while this one runs."""
        self.override_display_id = override_display_id

    def serialize(self) -> dict[str, Any]:
        data: dict[str, Any] = {"class_type": self.class_type, "inputs": self.inputs}
        if self.override_display_id is not None:
            data["override_display_id"] = self.override_display_id
        return data


class GraphBuilder:
    """Collects nodes under one id prefix and returns them as an API-format graph."""

    def __init__(self, prefix: str | None = None) -> None:
        self.prefix = prefix if prefix is not None else GraphBuilder.alloc_prefix()
        self.nodes: dict[str, Node] = {}
        self._next_id = 1

    @classmethod
    def set_default_prefix(cls, prefix_root: str, call_index: int, graph_index: int = 0) -> None:
        state = id_prefix()
        state.root, state.call_index, state.next_graph = str(prefix_root), call_index, graph_index

    @classmethod
    def alloc_prefix(
        cls, root: str | None = None, call_index: int | None = None, graph_index: int | None = None
    ) -> str:
        """The next default prefix; each call advances the graph counter of the current node call."""
        state = id_prefix()
        prefix = (
            f"{state.root if root is None else root}."
            f"{state.call_index if call_index is None else call_index}."
            f"{state.next_graph if graph_index is None else graph_index}."
        )
        state.next_graph += 1
        return prefix

    def node(self, class_type: str, id: str | None = None, **inputs: Any) -> Node:
        """Add a node (or return the one already added under ``id``)."""
        if id is None:
            id = str(self._next_id)
            self._next_id += 1
        full_id = self.prefix + id
        existing = self.nodes.get(full_id)
        if existing is not None:
            return existing
        created = Node(full_id, class_type, inputs)
        self.nodes[full_id] = created
        return created

    def lookup_node(self, id: str) -> Node | None:
        return self.nodes.get(self.prefix + id)

    def finalize(self) -> dict[str, dict[str, Any]]:
        return {node_id: node.serialize() for node_id, node in self.nodes.items()}

    def replace_node_output(self, node_id: str, index: int, new_value: Any) -> None:
        """Point every input linked to output ``index`` of ``node_id`` at ``new_value`` (``None``: unlink)."""
        target = self.prefix + node_id
        for node in self.nodes.values():
            for key, value in list(node.inputs.items()):
                if is_link(value) and value[0] == target and value[1] == index:
                    node.set_input(key, new_value)

    def remove_node(self, id: str) -> None:
        del self.nodes[self.prefix + id]


def add_graph_prefix(
    graph: dict[str, dict[str, Any]], outputs: list[Any], prefix: str
) -> tuple[dict[str, dict[str, Any]], tuple[Any, ...]]:
    """Prefix every id of ``graph`` (and the links to them in inputs and ``outputs``) with ``prefix``."""

    def relink(value: Any) -> Any:
        if is_link(value) and value[0] in graph:
            return [prefix + value[0], value[1]]
        return value

    renamed = {
        prefix + node_id: {
            **node,
            "inputs": {name: relink(value) for name, value in node.get("inputs", {}).items()},
        }
        for node_id, node in graph.items()
    }
    return renamed, tuple(relink(value) for value in outputs)
