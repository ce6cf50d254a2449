"""API prompt → editor workflow (workflow-formats.md §5), for importing prompts into the front end.

The result is a schema 0.4 workflow: one node per prompt entry (its id, ``class_type`` and ``_meta.title``),
``widgets_values`` built by the widget rules run in reverse (control widgets ``"fixed"`` so that the values
stay as given, upload buttons ``"image"``), linked widgets saved as converted widget inputs, and a simple
layout: one column per dependency depth, nodes stacked top to bottom.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphflow.workflow.errors import MissingNode, UnknownNodeTypeError, WorkflowError
from graphflow.workflow.widgets import build_widget_slots, input_specs, widget_default

COLUMN_WIDTH = 380
NODE_WIDTH = 315
ROW_GAP = 40
LINE_HEIGHT = 24


def is_link(value: Any) -> bool:
    """The server's link test: a 2-list whose first item is a string and second an int."""
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
    )


def _editor_id(key: str) -> int | str:
    return int(key) if key.isdigit() else key


def _literal(value: Any) -> Any:
    if isinstance(value, Mapping) and set(value) == {"__value__"}:
        return value["__value__"]
    return value


def _node_inputs(entry: Mapping[str, Any], node_def: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Saved input entries: every socket, plus widgets that are linked (compressed form)."""
    given = entry.get("inputs") or {}
    saved: list[dict[str, Any]] = []
    known = set()
    for spec in input_specs(node_def):
        known.add(spec.name)
        if not spec.is_widget:
            saved.append({"name": spec.name, "type": spec.socket_type, "link": None})
        elif is_link(given.get(spec.name)):
            saved.append(
                {"name": spec.name, "type": spec.socket_type, "widget": {"name": spec.name}, "link": None}
            )
    saved += [
        {"name": name, "type": "*", "link": None}
        for name, value in given.items()
        if name not in known and is_link(value)
    ]
    return saved


def _widgets_values(entry: Mapping[str, Any], node_def: Mapping[str, Any]) -> list[Any]:
    given = entry.get("inputs") or {}
    values: list[Any] = []
    for slot in build_widget_slots(node_def):
        if slot.kind == "control":
            values.append("fixed")
        elif slot.kind == "upload":
            values.append(slot.spec.upload_value)
        else:
            value = given.get(slot.spec.name)
            values.append(widget_default(slot.spec) if value is None or is_link(value) else _literal(value))
    return values


def _depths(prompt: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """Longest distance of each node from a node without linked inputs (cycles are cut)."""
    depths: dict[str, int] = {}

    def depth(key: str, open_keys: frozenset[str]) -> int:
        if key in depths:
            return depths[key]
        sources = [
            v[0]
            for v in (prompt[key].get("inputs") or {}).values()
            if is_link(v) and v[0] in prompt and v[0] not in open_keys
        ]
        result = 1 + max((depth(s, open_keys | {key}) for s in sources), default=-1)
        depths[key] = result
        return result

    for key in prompt:
        depth(key, frozenset())
    return depths


def api_to_editor(prompt: Mapping[str, Any], node_defs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Build a schema 0.4 editor workflow from an API prompt.

    Raises:
        UnknownNodeTypeError: a ``class_type`` is not in ``node_defs``.
        WorkflowError: ``prompt`` is not an API prompt.
    """
    if not isinstance(prompt, Mapping) or not all(
        isinstance(e, Mapping) and isinstance(e.get("class_type"), str) for e in prompt.values()
    ):
        raise WorkflowError("an API prompt maps node ids to objects with a 'class_type' and 'inputs'")
    missing = [
        MissingNode(str(k), e["class_type"], str((e.get("_meta") or {}).get("title") or ""))
        for k, e in prompt.items()
        if e["class_type"] not in node_defs
    ]
    if missing:
        raise UnknownNodeTypeError(missing)

    nodes: dict[str, dict[str, Any]] = {}
    for key, entry in prompt.items():
        node_def = node_defs[entry["class_type"]]
        types = list(node_def.get("output") or [])
        names = list(node_def.get("output_name") or types)
        nodes[str(key)] = {
            "id": _editor_id(str(key)),
            "type": entry["class_type"],
            "mode": 0,
            "flags": {},
            "inputs": _node_inputs(entry, node_def),
            "outputs": [
                {
                    "name": names[i] if i < len(names) else str(t),
                    "type": t if isinstance(t, str) else "COMBO",
                    "links": [],
                    "slot_index": i,
                }
                for i, t in enumerate(types)
            ],
            "title": (entry.get("_meta") or {}).get("title")
            or node_def.get("display_name")
            or entry["class_type"],
            "properties": {"Node name for S&R": entry["class_type"]},
            "widgets_values": _widgets_values(entry, node_def),
        }

    links: list[list[Any]] = []
    for key, entry in prompt.items():
        given = entry.get("inputs") or {}
        for target_slot, saved in enumerate(nodes[str(key)]["inputs"]):
            value = given.get(saved.get("widget", {}).get("name", saved["name"]))
            if not is_link(value) or value[0] not in nodes:
                continue
            origin = nodes[value[0]]
            outputs = origin["outputs"]
            link_type = outputs[value[1]]["type"] if value[1] < len(outputs) else saved["type"]
            link_id = len(links) + 1
            links.append([link_id, origin["id"], value[1], nodes[str(key)]["id"], target_slot, link_type])
            saved["link"] = link_id
            if value[1] < len(outputs):
                outputs[value[1]]["links"].append(link_id)

    _lay_out(nodes, _depths(prompt))
    int_ids = [n["id"] for n in nodes.values() if isinstance(n["id"], int)]
    return {
        "last_node_id": max(int_ids, default=len(nodes)),
        "last_link_id": len(links),
        "nodes": list(nodes.values()),
        "links": links,
        "groups": [],
        "config": {},
        "extra": {"ds": {"scale": 1, "offset": [0, 0]}},
        "version": 0.4,
    }


def _lay_out(nodes: dict[str, dict[str, Any]], depths: dict[str, int]) -> None:
    """Columns by dependency depth; ``order`` is a valid execution order (by depth)."""
    column_bottoms: dict[int, int] = {}
    for order, key in enumerate(sorted(nodes, key=lambda k: depths[k])):
        node, depth = nodes[key], depths[key]
        rows = max(len(node["inputs"]) + len(node["widgets_values"]), len(node["outputs"]), 1)
        height = 30 + LINE_HEIGHT * rows
        top = column_bottoms.get(depth, 50)
        node["pos"] = [50 + depth * COLUMN_WIDTH, top]
        node["size"] = [NODE_WIDTH, height]
        node["order"] = order
        column_bottoms[depth] = top + height + ROW_GAP
