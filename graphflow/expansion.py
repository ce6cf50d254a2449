"""Node expansion: a node returns a graph of new nodes to run in its place.

The new nodes are validated like submitted ones, keyed and cached like any other (so an identical
expansion is free the second time), and the expanding node's outputs are resolved from them once they have
run. Ids come from the node (deterministic ``"<parent>.<call>.<graph>.<n>"`` ids in ComfyUI's
GraphBuilder); an id already in use or a cycle among the new nodes is an error of the expanding node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from graphflow.graph import GraphNode, _check_links, _parse_node, _topological_order
from graphflow.values import is_link

if TYPE_CHECKING:
    from graphflow.scheduler import _Run


class ExpansionError(Exception):
    """The graph a node returned cannot run (duplicate ids, unknown types, bad inputs, a cycle)."""


@dataclass
class Expansion:
    new_ids: list[str]
    new_roots: list[str]
    waits_for: set[str]
    outputs: list[list[Any]]
    ui: dict | None
    _links: dict[str, Any] = field(default_factory=dict)

    def resolve(self, values: Mapping[str, list[list[Any]]]) -> tuple[list[list[Any]], dict | None]:
        """The expanding node's outputs with links into the new graph replaced by what those nodes made."""
        resolved: list[list[Any]] = []
        for items in self.outputs:
            out: list[Any] = []
            for item in items:
                if is_link(item) and item[0] in self.waits_for:
                    out.extend(values[item[0]][item[1]])
                else:
                    out.append(item)
            resolved.append(out)
        return resolved, self.ui


def expand(
    run: _Run, parent: GraphNode, graphs: list[dict[str, Any]], outputs: list[list[Any]], ui: dict | None
):
    from graphflow.scheduler import NodeFailed

    try:
        return _expand(run, parent, graphs, outputs, ui)
    except ExpansionError as error:
        raise NodeFailed(parent.id, error) from error


def _expand(run: _Run, parent: GraphNode, graphs: list[dict[str, Any]], outputs, ui) -> Expansion:
    registry = run.runtime.registry
    raw_nodes: dict[str, Any] = {}
    for graph in graphs:
        for node_id, raw in graph.items():
            node_id = str(node_id)
            if node_id in run.nodes or node_id in raw_nodes:
                raise ExpansionError(f"node id {node_id!r} returned by the expansion is already in use")
            raw_nodes[node_id] = raw
    new: dict[str, GraphNode] = {}
    for node_id, raw in raw_nodes.items():
        class_type = raw.get("class_type") if isinstance(raw, Mapping) else None
        spec = registry.get(class_type) if isinstance(class_type, str) else None
        if spec is None:
            raise ExpansionError(f"expanded node {node_id} has unknown type {class_type!r}")
        node, problems = _parse_node(node_id, raw, spec, run.ex.memo, run.runtime)
        node.parent = parent.id
        node.display_id = str(raw.get("override_display_id") or parent.display_id or parent.id)
        new[node_id] = node
        if problems:
            raise ExpansionError(
                f"expanded node {node_id} ({class_type}): {problems[0].message} ({problems[0].details})"
            )
    run.nodes.update(new)
    for node in new.values():
        problems = _check_links(run.nodes, node)
        if problems:
            raise ExpansionError(f"expanded node {node.id}: {problems[0].message}")
    # Only links among the new nodes can form a cycle (existing nodes never depend on new ones).
    internal = {
        nid: SimpleNamespace(links={k: link for k, link in node.links.items() if link[0] in new})
        for nid, node in new.items()
    }
    order, cyclic = _topological_order(internal)  # type: ignore[arg-type]
    if cyclic:
        raise ExpansionError(
            f"the expanded graph has a dependency cycle through nodes {', '.join(sorted(cyclic))}"
        )
    outside = [
        src
        for node in new.values()
        for src, _ in node.links.values()
        if src not in new and src not in run.keys
    ]
    if outside:
        run.compute_keys([nid for nid in run.needed(outside) if nid not in run.keys])
    run.compute_keys(order)
    for node_id in order:
        entry = run.cache.get(run.keys[node_id])
        if entry is not None:
            run.values[node_id] = entry.outputs
    linked = {item[0] for items in outputs for item in items if is_link(item) and item[0] in new}
    new_outputs = [nid for nid in order if new[nid].spec.output_node]
    return Expansion(
        list(order), sorted(linked) + [n for n in new_outputs if n not in linked], linked, outputs, ui
    )
