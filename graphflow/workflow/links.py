"""Step 0 of the editor → API conversion: normalise one graph level (workflow-formats.md §4.1).

Schema 0.4 stores links as arrays ``[id, origin_id, origin_slot, target_id, target_slot, type]``; schema 1 and
subgraph definitions store objects. Both become :class:`Link`. Node and link ids are compared as strings, so
``5`` and ``"5"`` are the same node.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphflow.workflow.errors import WorkflowError

SUPPORTED_SCHEMA_VERSIONS = (0.4, 1)

#: Ids of a subgraph's boundary nodes inside its definition.
SUBGRAPH_INPUT_ID = "-10"
SUBGRAPH_OUTPUT_ID = "-20"

#: LiteGraph node modes that matter for conversion; 1 and 3 count as active.
MODE_MUTED = 2
MODE_BYPASSED = 4


@dataclass(frozen=True)
class Link:
    """One link of a graph level. Ids are strings; slots are ints; ``type`` is informational only."""

    id: str
    origin_id: str
    origin_slot: int
    target_id: str
    target_slot: int
    type: Any = None


@dataclass
class GraphLevel:
    """The root graph or one subgraph definition, indexed.

    ``nodes`` keeps file order. ``definition`` is the subgraph definition dict (None for the root graph);
    ``name`` is what error messages call this level.
    """

    nodes: dict[str, Mapping[str, Any]]
    links: dict[str, Link]
    name: str = "workflow"
    definition: Mapping[str, Any] | None = None
    by_target: dict[str, list[Link]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for link in self.links.values():
            self.by_target.setdefault(link.target_id, []).append(link)


def node_key(node: Mapping[str, Any]) -> str:
    """A node's id as a string (ids may be ints or strings in files)."""
    return str(node.get("id"))


def node_mode(node: Mapping[str, Any]) -> int:
    """A node's LiteGraph mode; missing or malformed counts as 0 (always)."""
    mode = node.get("mode", 0)
    return mode if isinstance(mode, int) else 0


def _slot(value: Any, what: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise WorkflowError(f"{where}: link {what} {value!r} is not a slot number")
    try:
        return int(value)
    except ValueError:
        raise WorkflowError(f"{where}: link {what} {value!r} is not a slot number") from None


def normalise_link(raw: Any, where: str) -> Link | None:
    """Turn one array-form or object-form link into a :class:`Link`; ``None`` entries are skipped."""
    if raw is None:
        return None
    if isinstance(raw, (list, tuple)):
        if len(raw) < 5:
            raise WorkflowError(f"{where}: link {list(raw)!r} has fewer than 5 fields")
        link_id, origin_id, origin_slot, target_id, target_slot = raw[:5]
        link_type = raw[5] if len(raw) > 5 else None
    elif isinstance(raw, Mapping):
        try:
            link_id, origin_id, origin_slot = raw["id"], raw["origin_id"], raw["origin_slot"]
            target_id, target_slot = raw["target_id"], raw["target_slot"]
        except KeyError as missing:
            raise WorkflowError(f"{where}: a link object lacks the key {missing}") from None
        link_type = raw.get("type")
    else:
        raise WorkflowError(f"{where}: a link is neither an array nor an object: {raw!r}")
    return Link(
        id=str(link_id),
        origin_id=str(origin_id),
        origin_slot=_slot(origin_slot, "origin_slot", where),
        target_id=str(target_id),
        target_slot=_slot(target_slot, "target_slot", where),
        type=link_type,
    )


def normalise_links(raw_links: Iterable[Any] | None, where: str) -> dict[str, Link]:
    """Index a level's links by string id, accepting both schema forms."""
    links: dict[str, Link] = {}
    for raw in raw_links or ():
        link = normalise_link(raw, where)
        if link is not None:
            links[link.id] = link
    return links


def check_schema_version(workflow: Mapping[str, Any]) -> None:
    """Refuse graph-schema versions other than 0.4 and 1 (a missing version is read as 0.4)."""
    version = workflow.get("version")
    if version is None:
        return
    try:
        number = float(version)
    except (TypeError, ValueError):
        number = None
    if number not in SUPPORTED_SCHEMA_VERSIONS:
        raise WorkflowError(
            f"unknown workflow schema version {version!r}: graphflow reads editor workflows of schema "
            "version 0.4 and 1. Open the file in the ComfyUI front end and save it again, or export it "
            "with 'Export (API)'."
        )


def parse_level(
    graph: Mapping[str, Any], *, name: str, definition: Mapping[str, Any] | None = None
) -> GraphLevel:
    """Index the nodes and links of the root graph or of one subgraph definition."""
    raw_nodes = graph.get("nodes")
    if not isinstance(raw_nodes, list):
        raise WorkflowError(f"{name}: 'nodes' must be a list of node objects")
    nodes: dict[str, Mapping[str, Any]] = {}
    for index, node in enumerate(raw_nodes):
        if not isinstance(node, Mapping) or "id" not in node or not isinstance(node.get("type"), str):
            raise WorkflowError(f"{name}: node #{index} is not a node object with an 'id' and a 'type'")
        key = node_key(node)
        if key in nodes:
            raise WorkflowError(f"{name}: two nodes share the id {key}; ids must be unique within a graph")
        nodes[key] = node
    links = graph.get("links")
    if links is not None and not isinstance(links, list):
        raise WorkflowError(f"{name}: 'links' must be a list")
    return GraphLevel(nodes=nodes, links=normalise_links(links, name), name=name, definition=definition)
