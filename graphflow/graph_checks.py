"""Whole-graph checks that need more than one node at a time: cycles and nodes' own validation hooks."""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Any

from graphflow.errors import Problem

if TYPE_CHECKING:
    from graphflow.graph import GraphNode


def find_cycles(nodes: dict[str, GraphNode], suspects: set[str]) -> dict[str, Problem]:
    """A ``dependency_cycle`` problem for every node on a cycle, naming the whole cycle.

    ``suspects`` are the nodes a topological sort could not place (on a cycle or behind one); networkx
    separates the two by strongly connected components, so only nodes really on a cycle are blamed.
    """
    if not suspects:
        return {}
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(suspects)
    for nid in suspects:
        for src, _ in nodes[nid].links.values():
            if src in suspects:
                graph.add_edge(src, nid)
    found: dict[str, Problem] = {}
    for component in nx.strongly_connected_components(graph):
        if len(component) == 1:
            (only,) = component
            if not graph.has_edge(only, only):
                continue
        cycle = [edge[0] for edge in nx.find_cycle(graph.subgraph(component))]
        path = " -> ".join(f"{nid} ({nodes[nid].spec.class_type})" for nid in [*cycle, cycle[0]])
        members = sorted(component, key=_natural)
        for nid in members:
            found[nid] = Problem(
                "dependency_cycle",
                f"Node is part of a dependency cycle: {path}",
                f"cycle through nodes {', '.join(members)}",
                None,
                "remove one of the links so that no node depends on its own output",
                {"cycle": members},
            )
    return found


def _natural(node_id: str) -> tuple[int, Any]:
    return (0, int(node_id)) if node_id.isdigit() else (1, node_id)


def run_validate_hook(node: GraphNode, nodes: dict[str, GraphNode], runtime: Any) -> list[Problem]:
    """Run a node type's own validation on the node's constants (linked inputs are left out).

    Hooks that ask for them receive the type names of the outputs linked into the node.
    """
    received = {}
    for name, (src, slot) in node.links.items():
        source = nodes.get(src)
        if source is not None and 0 <= slot < len(source.spec.outputs):
            received[name] = source.spec.outputs[slot].type
    try:
        found = node.spec.runner.validate(runtime, dict(node.constants), received)
    except Exception as error:  # a buggy hook must not take validation down
        return [
            Problem(
                "exception_during_validation",
                "Exception when validating node",
                str(error),
                None,
                f"the {node.spec.class_type} node's own check failed; check its inputs or report it to the pack author",
                {"exception_type": type(error).__name__, "traceback": traceback.format_exc().splitlines()},
            )
        ]
    return [
        Problem(
            "custom_validation_failed",
            "Custom validation failed for node",
            f"{input_name} - {message}" if input_name and message else input_name or message,
            input_name,
            message or None,
        )
        for input_name, message in found
    ]
