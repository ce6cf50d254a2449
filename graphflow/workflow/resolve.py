"""Steps 1–3 of the editor → API conversion: where does a linked input really come from?

Following a link backwards passes through subgraph boundaries, front-end-only nodes and bypassed nodes until
it reaches a node that runs (a :class:`LinkOrigin`), a literal value (a :class:`Literal`, from a
PrimitiveNode or a subgraph's promoted widget), or nothing (``None``: the input is left unconnected).

Rules (workflow-formats.md §4.2–§4.4, checked against the front end's ``ExecutableNodeDTO``):

- **Muted** origin: nothing. A socket input is then absent; a converted widget keeps its widget value, as in
  front end 1.58 (which returns nothing for muted origins).
- **Bypassed** origin B, consumer of type T linked to output k: the input of B with index k if it fits both
  T and B's output type; else the first input typed exactly T; else the first input that fits both; then
  follow that input. A target of type ``*`` takes input k (or input 0). No fitting or unlinked input:
  nothing. B's inputs are its *saved* inputs.
- **PrimitiveNode**: a literal ``widgets_values[0]``. **Reroute** and other front-end-only nodes: pass
  through the input with the same index (chains repeat). KJNodes **GetNode**: the input of the **SetNode**
  with the same constant name, at the same graph level.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphflow.types import is_compatible
from graphflow.workflow.errors import WorkflowError
from graphflow.workflow.links import (
    MODE_BYPASSED,
    MODE_MUTED,
    SUBGRAPH_INPUT_ID,
    GraphLevel,
    node_mode,
)
from graphflow.workflow.subgraphs import (
    HostValues,
    NodeRef,
    host_values,
    instance_input_index,
    output_boundary_link,
)

PRIMITIVE_NODE = "PrimitiveNode"


@dataclass(frozen=True)
class LinkOrigin:
    """The output ``slot`` of the emitted node ``node_id`` (a path id)."""

    node_id: str
    slot: int


@dataclass(frozen=True)
class Literal:
    """A literal value for the input. ``as_widget`` marks values the front end writes into the target widget
    (PrimitiveNode), which therefore get the widget's dynamic-prompt processing."""

    value: Any
    as_widget: bool = False


Resolution = LinkOrigin | Literal | None


def type_name(raw: Any) -> str:
    """A saved slot type as a type string: lists join into unions, empty or missing means ``*``."""
    if isinstance(raw, (list, tuple)):
        return ",".join(str(t) for t in raw) or "*"
    if raw in (None, "", 0):
        return "*"
    return str(raw)


class LinkResolver:
    """Resolves links of a flattened editor workflow; collects warnings as it goes."""

    def __init__(
        self,
        definitions: Mapping[str, GraphLevel],
        node_defs: Mapping[str, Mapping[str, Any]],
        virtual_types: frozenset[str],
        warnings: list[str],
    ) -> None:
        self.definitions = definitions
        self.node_defs = node_defs
        self.virtual_types = virtual_types
        self.warnings = warnings
        self._host_values: dict[str, HostValues] = {}

    def host_values(self, instance: NodeRef) -> HostValues:
        """An instance's promoted widget values (cached per instance)."""
        if instance.exec_id not in self._host_values:
            level = self.definitions[instance.type]
            self._host_values[instance.exec_id] = host_values(
                instance, level, self.definitions, self.node_defs
            )
        return self._host_values[instance.exec_id]

    def resolve_input(
        self,
        ref: NodeRef,
        slot: int,
        visited: set[tuple[str, str, int]] | None = None,
        target_type: str | None = None,
    ) -> Resolution:
        """Where saved input ``slot`` of ``ref`` gets its value from."""
        visited = set() if visited is None else visited
        self._enter(visited, ref, "in", slot)
        inputs = ref.inputs
        if slot >= len(inputs) or inputs[slot].get("link") is None:
            return None
        entry = inputs[slot]
        wanted = target_type or type_name(entry.get("type"))
        link = ref.level.links.get(str(entry["link"]))
        if link is None:
            self.warnings.append(
                f"{ref.describe()}: input {entry.get('name')!r} names link {entry['link']}, "
                "which does not exist; the input is left unconnected"
            )
            return None
        if link.origin_id == SUBGRAPH_INPUT_ID and ref.instance is not None:
            return self._from_instance_input(ref.instance, ref.level, link.origin_slot, visited)
        origin = ref.level.nodes.get(link.origin_id)
        if origin is None:
            self.warnings.append(
                f"{ref.describe()}: input {entry.get('name')!r} is linked from node "
                f"{link.origin_id}, which does not exist; the input is left unconnected"
            )
            return None
        return self.resolve_output(
            NodeRef(origin, ref.level, ref.path, ref.instance), link.origin_slot, wanted, visited
        )

    def resolve_output(
        self, ref: NodeRef, slot: int, target_type: str, visited: set[tuple[str, str, int]]
    ) -> Resolution:
        """What output ``slot`` of ``ref`` delivers to a consumer input of type ``target_type``."""
        self._enter(visited, ref, "out", slot)
        mode = node_mode(ref.node)
        if mode == MODE_MUTED:
            return None
        if mode == MODE_BYPASSED:
            index = bypass_input_index(ref, slot, target_type)
            if index is None:
                self.warnings.append(
                    f"{ref.describe()} is bypassed but has no input of a type that fits "
                    f"{target_type}; its consumer's input is left unconnected"
                )
                return None
            return self.resolve_input(ref, index, visited)
        if ref.type in self.definitions:
            return self._from_instance_output(ref, slot, target_type, visited)
        if ref.type == PRIMITIVE_NODE:
            return _primitive_value(ref)
        if ref.type == "GetNode" and ref.type in self.virtual_types:
            setter = _matching_setter(ref)
            return None if setter is None else self.resolve_input(setter, 0, visited, target_type)
        if ref.type in self.virtual_types:
            return self.resolve_input(ref, slot, visited, target_type) if slot < len(ref.inputs) else None
        return LinkOrigin(ref.exec_id, slot)

    def _from_instance_input(
        self,
        instance: NodeRef,
        level: GraphLevel,
        def_index: int,
        visited: set[tuple[str, str, int]],
    ) -> Resolution:
        """Resolve an inner link that starts at the input boundary (−10) of ``instance``."""
        saved_index = instance_input_index(instance, level, def_index)
        if saved_index is not None and instance.inputs[saved_index].get("link") is not None:
            return self.resolve_input(instance, saved_index, visited)
        promoted = self.host_values(instance).by_input
        if def_index in promoted and promoted[def_index] is not None:
            return Literal(promoted[def_index])
        return None

    def _from_instance_output(
        self,
        instance: NodeRef,
        slot: int,
        target_type: str,
        visited: set[tuple[str, str, int]],
    ) -> Resolution:
        """Resolve output ``slot`` of an instance through the inner link that targets its output boundary."""
        level = self.definitions[instance.type]
        link = output_boundary_link(level, slot)
        if link is None:
            self.warnings.append(
                f"{instance.describe()}: output {slot} is not connected inside "
                f"{level.name}; its consumers' inputs are left unconnected"
            )
            return None
        if link.origin_id == SUBGRAPH_INPUT_ID:
            return self._from_instance_input(instance, level, link.origin_slot, visited)
        inner = level.nodes.get(link.origin_id)
        if inner is None:
            self.warnings.append(
                f"{level.name}: output {slot} comes from node {link.origin_id}, which does not exist"
            )
            return None
        inner_ref = NodeRef(inner, level, (*instance.path, instance.key), instance)
        return self.resolve_output(inner_ref, link.origin_slot, target_type, visited)

    @staticmethod
    def _enter(visited: set[tuple[str, str, int]], ref: NodeRef, side: str, slot: int) -> None:
        key = (ref.exec_id, side, slot)
        if key in visited:
            raise WorkflowError(
                f"the links through {ref.describe()} form a loop; "
                "remove one of the links in that loop and try again"
            )
        visited.add(key)


def bypass_input_index(ref: NodeRef, slot: int, target_type: str) -> int | None:
    """Which saved input a bypassed node passes to a consumer of its output ``slot`` (see module docstring)."""
    inputs = ref.inputs
    if not inputs:
        return None
    if target_type == "*":
        return slot if slot < len(inputs) else 0
    outputs = ref.outputs
    output_type = type_name(outputs[slot].get("type")) if slot < len(outputs) else "*"
    types = [type_name(entry.get("type")) for entry in inputs]

    def fits(candidate: str) -> bool:
        return is_compatible(candidate, output_type) and is_compatible(candidate, target_type)

    if slot < len(types) and fits(types[slot]):
        return slot
    exact = next((i for i, t in enumerate(types) if t == target_type), None)
    if exact is not None:
        return exact
    return next((i for i, t in enumerate(types) if fits(t)), None)


def _primitive_value(ref: NodeRef) -> Literal | None:
    values = ref.node.get("widgets_values")
    if isinstance(values, list) and values:
        return Literal(values[0], as_widget=True)
    if isinstance(values, Mapping) and values:
        return Literal(values.get("value", next(iter(values.values()))), as_widget=True)
    return None


def _constant_name(node: Mapping[str, Any]) -> Any:
    values = node.get("widgets_values")
    return values[0] if isinstance(values, list) and values else None


def _matching_setter(getter: NodeRef) -> NodeRef | None:
    name = _constant_name(getter.node)
    for node in getter.level.nodes.values():
        if node.get("type") == "SetNode" and name is not None and _constant_name(node) == name:
            return NodeRef(node, getter.level, getter.path, getter.instance)
    return None
