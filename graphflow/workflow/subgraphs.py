"""Step 1 of the editor → API conversion: subgraph definitions and their instances (workflow-formats.md §4.2).

A node whose ``type`` is the id of an entry of ``definitions.subgraphs`` is an *instance*. Its inner nodes run
under path ids ``"<instance id>:<inner id>"`` (nested further with more ``:``). Inside a definition, node −10
is the input boundary and −20 the output boundary. The contents of a muted or bypassed instance never run,
at any nesting depth (the front end's intended behaviour, Comfy-Org/ComfyUI_frontend#8494).

Promoted widgets. An instance input that is not linked in the parent graph but feeds an inner widget carries
the instance's own value for it (the front end's promoted widget): the instance's ``widgets_values`` hold one
value per such input, in definition input order (older saves may add a control value after a seed). Files
from the ``properties.proxyWidgets`` era pair ``widgets_values`` with the proxy list instead. When the
instance holds no value, the inner node keeps its own widget value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphflow.workflow.errors import WorkflowError
from graphflow.workflow.links import (
    MODE_BYPASSED,
    MODE_MUTED,
    SUBGRAPH_INPUT_ID,
    SUBGRAPH_OUTPUT_ID,
    GraphLevel,
    Link,
    node_key,
    node_mode,
    parse_level,
)
from graphflow.workflow.widgets import input_specs, is_control_value


@dataclass(frozen=True)
class NodeRef:
    """A node at its place in the flattened graph: its level, the instance path above it, its instance."""

    node: Mapping[str, Any]
    level: GraphLevel
    path: tuple[str, ...] = ()
    instance: NodeRef | None = None

    @property
    def key(self) -> str:
        return node_key(self.node)

    @property
    def exec_id(self) -> str:
        """The API prompt id: instance ids and the node id joined with ``:``."""
        return ":".join((*self.path, self.key))

    @property
    def type(self) -> str:
        return str(self.node.get("type"))

    @property
    def inputs(self) -> list[Mapping[str, Any]]:
        return [i for i in self.node.get("inputs") or () if isinstance(i, Mapping)]

    @property
    def outputs(self) -> list[Mapping[str, Any]]:
        return [o for o in self.node.get("outputs") or () if isinstance(o, Mapping)]

    def describe(self) -> str:
        title = self.node.get("title")
        shown = f" {title!r}" if isinstance(title, str) and title and title != self.type else ""
        return f"node {self.exec_id}{shown} ({self.type})"


@dataclass
class HostValues:
    """An instance's own widget values: per definition input index, and per inner (node id, widget name)."""

    by_input: dict[int, Any] = field(default_factory=dict)
    inner: dict[str, dict[str, Any]] = field(default_factory=dict)


def collect_definitions(workflow: Mapping[str, Any]) -> dict[str, GraphLevel]:
    """Every subgraph definition of a workflow by id, including definitions nested inside definitions."""
    found: dict[str, GraphLevel] = {}
    pending = [workflow]
    while pending:
        holder = pending.pop()
        for definition in (holder.get("definitions") or {}).get("subgraphs") or ():
            if not isinstance(definition, Mapping) or "id" not in definition:
                raise WorkflowError("a subgraph definition has no 'id'")
            key = str(definition["id"])
            if key in found:
                continue
            name = f"subgraph {definition.get('name') or key!r}"
            found[key] = parse_level(definition, name=name, definition=definition)
            pending.append(definition)
    return found


def walk(root: GraphLevel, definitions: Mapping[str, GraphLevel]) -> Iterator[NodeRef]:
    """Every node of the flattened graph, instances included, skipping the contents of inactive instances."""
    yield from _walk(root, definitions, (), None, ())


def _walk(
    level: GraphLevel,
    definitions: Mapping[str, GraphLevel],
    path: tuple[str, ...],
    instance: NodeRef | None,
    open_definitions: tuple[str, ...],
) -> Iterator[NodeRef]:
    for node in level.nodes.values():
        ref = NodeRef(node, level, path, instance)
        yield ref
        inner = definitions.get(ref.type)
        if inner is None or node_mode(node) in (MODE_MUTED, MODE_BYPASSED):
            continue
        if ref.type in open_definitions:
            raise WorkflowError(
                f"{inner.name} contains an instance of itself ({ref.describe()}); "
                "a subgraph cannot include itself"
            )
        yield from _walk(inner, definitions, (*path, ref.key), ref, (*open_definitions, ref.type))


def definition_inputs(level: GraphLevel) -> list[Mapping[str, Any]]:
    return [i for i in (level.definition or {}).get("inputs") or () if isinstance(i, Mapping)]


def instance_input_index(instance: NodeRef, level: GraphLevel, def_index: int) -> int | None:
    """The position in the instance's saved ``inputs`` of definition input ``def_index``.

    Saved instance inputs may be compressed (unlinked widget inputs dropped), so they are matched by name
    and type, then by name, and by position only when nothing is named.
    """
    declared = definition_inputs(level)
    saved = instance.inputs
    if def_index >= len(declared):
        return def_index if def_index < len(saved) else None
    wanted = declared[def_index]
    name, type_ = wanted.get("name"), wanted.get("type")
    same_name = [i for i, entry in enumerate(saved) if entry.get("name") == name]
    typed = [i for i in same_name if saved[i].get("type") == type_]
    # Several declared inputs may share a name; match them in order.
    rank = sum(1 for d in declared[:def_index] if d.get("name") == name)
    for candidates in (typed, same_name):
        if len(candidates) > rank:
            return candidates[rank]
    if not any(entry.get("name") for entry in saved) and def_index < len(saved):
        return def_index
    return None


def output_boundary_link(level: GraphLevel, slot: int) -> Link | None:
    """The inner link that defines the instance's output ``slot`` (the one targeting node −20)."""
    return next(
        (link for link in level.by_target.get(SUBGRAPH_OUTPUT_ID, ()) if link.target_slot == slot), None
    )


def _feeds_widget(
    level: GraphLevel,
    def_index: int,
    definitions: Mapping[str, GraphLevel],
    node_defs: Mapping[str, Mapping[str, Any]],
    depth: int = 0,
) -> bool:
    """True when definition input ``def_index`` feeds an inner widget (directly or through a nested instance)."""
    if depth > 32:
        return False
    for link in level.links.values():
        if link.origin_id != SUBGRAPH_INPUT_ID or link.origin_slot != def_index:
            continue
        target = level.nodes.get(link.target_id)
        if target is None:
            continue
        target_ref = NodeRef(target, level)
        saved = target_ref.inputs
        entry = saved[link.target_slot] if link.target_slot < len(saved) else {}
        if isinstance(entry.get("widget"), Mapping):
            return True
        nested = definitions.get(target_ref.type)
        if nested is not None:
            nested_index = _declared_index(nested, entry.get("name"))
            if nested_index is not None and _feeds_widget(
                nested, nested_index, definitions, node_defs, depth + 1
            ):
                return True
            continue
        spec = {s.name: s for s in input_specs(node_defs.get(target_ref.type) or {})}.get(entry.get("name"))
        if spec is not None and spec.is_widget:
            return True
    return False


def _declared_index(level: GraphLevel, name: Any) -> int | None:
    return next((i for i, d in enumerate(definition_inputs(level)) if d.get("name") == name), None)


def host_values(
    instance: NodeRef,
    level: GraphLevel,
    definitions: Mapping[str, GraphLevel],
    node_defs: Mapping[str, Mapping[str, Any]],
) -> HostValues:
    """The values an instance holds for its promoted widgets (see the module docstring)."""
    result = HostValues()
    values = instance.node.get("widgets_values")
    named = instance.node.get("widgets_values_named")
    declared = definition_inputs(level)
    if isinstance(named, Mapping) or isinstance(values, Mapping):
        mapping = named if isinstance(named, Mapping) else values
        for index, entry in enumerate(declared):
            if entry.get("name") in mapping:
                result.by_input[index] = mapping[entry.get("name")]
        return result
    if not isinstance(values, list) or not values:
        return result
    proxies = (instance.node.get("properties") or {}).get("proxyWidgets")
    if isinstance(proxies, list) and proxies:
        if len(proxies) == len(values):
            for proxy, value in zip(proxies, values, strict=True):
                if isinstance(proxy, (list, tuple)) and len(proxy) == 2:
                    source, widget = str(proxy[0]), str(proxy[1])
                    if source == "-1":
                        index = _declared_index(level, widget)
                        if index is not None:
                            result.by_input[index] = value
                    else:
                        result.inner.setdefault(source, {})[widget] = value
        return result
    promoted = [i for i in range(len(declared)) if _feeds_widget(level, i, definitions, node_defs)]
    with_controls = len(values) > len(promoted)
    position = 0
    for index in promoted:
        if position >= len(values):
            break
        result.by_input[index] = values[position]
        position += 1
        if with_controls and position < len(values) and is_control_value(values[position]):
            position += 1
    return result
