"""Editor ("UI") workflow JSON → executable API prompt, server-side (workflow-formats.md §4).

In ComfyUI this conversion exists only in the browser (``graphToPrompt``). graphflow runs it on the server, so
a saved workflow file, a template or a PNG's embedded workflow can be queued as is::

    result = editor_to_api(workflow, object_info)
    result.prompt    # {"3": {"class_type": "KSampler", "inputs": {...}, "_meta": {"title": "KSampler"}}, ...}
    result.warnings  # things the user may want to know (defaults used, links that lead nowhere)

The node definitions are ``/object_info`` dicts. Nothing is randomised: control widgets ("randomize") are not
applied, and dynamic prompts are resolved only when a ``random.Random`` is passed.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphflow.workflow.dynamic_prompts import resolve_dynamic_prompt
from graphflow.workflow.errors import MissingNode, UnknownNodeTypeError, WorkflowError
from graphflow.workflow.links import MODE_BYPASSED, MODE_MUTED, check_schema_version, node_mode, parse_level
from graphflow.workflow.resolve import LinkOrigin, LinkResolver, Literal
from graphflow.workflow.subgraphs import NodeRef, collect_definitions, walk
from graphflow.workflow.widgets import api_value, input_specs, widget_inputs

#: Node types that exist only in the front end and are never sent to the server. PrimitiveNode gives
#: literals; GetNode reads its SetNode; every other one passes its same-index input through (or nothing).
DEFAULT_VIRTUAL_TYPES = frozenset(
    {
        "PrimitiveNode",
        "Reroute",
        "Note",
        "MarkdownNote",
        # rgthree-comfy's browser-only nodes
        "Reroute (rgthree)",
        "Label (rgthree)",
        "Bookmark (rgthree)",
        "Fast Groups Muter (rgthree)",
        "Fast Groups Bypasser (rgthree)",
        "Fast Muter (rgthree)",
        "Fast Bypasser (rgthree)",
        # ComfyUI-KJNodes' named wires
        "SetNode",
        "GetNode",
    }
)

LEGACY_GROUP_PREFIXES = ("workflow>", "workflow/")


@dataclass
class ConversionResult:
    """An API prompt ``{node_id: {"class_type", "inputs", "_meta"}}`` and warnings for the user."""

    prompt: dict[str, dict[str, Any]]
    warnings: list[str] = field(default_factory=list)


def editor_to_api(
    workflow: Mapping[str, Any],
    node_defs: Mapping[str, Mapping[str, Any]],
    *,
    virtual_types: frozenset[str] = DEFAULT_VIRTUAL_TYPES,
    dynamic_prompts: random.Random | None = None,
) -> ConversionResult:
    """Convert an editor workflow (schema 0.4 or 1) into an API prompt.

    Args:
        workflow: the editor JSON (``nodes``, ``links``, optional ``definitions.subgraphs``).
        node_defs: ``/object_info`` data by class name; every node that would run must be in it.
        virtual_types: front-end-only node types, dropped from the prompt.
        dynamic_prompts: when given, ``{a|b}`` choices and comments in ``dynamicPrompts`` STRING inputs are
            resolved with this generator, as the front end does at queue time.

    Raises:
        UnknownNodeTypeError: a node that would run has a type neither in ``node_defs`` nor virtual.
        WorkflowError: the workflow is malformed, uses legacy group nodes or an unknown schema version.
    """
    if not isinstance(workflow, Mapping):
        raise WorkflowError("an editor workflow must be a JSON object with 'nodes' and 'links'")
    check_schema_version(workflow)
    warnings: list[str] = []
    root = parse_level(workflow, name="workflow")
    definitions = collect_definitions(workflow)
    runnable = [ref for ref in walk(root, definitions) if _runs(ref, definitions, virtual_types)]
    _check_types(runnable, node_defs)

    resolver = LinkResolver(definitions, node_defs, virtual_types, warnings)
    prompt: dict[str, dict[str, Any]] = {}
    for ref in runnable:
        # Resolution only ever ends at nodes emitted here, so no link can dangle (§4.7).
        prompt[ref.exec_id] = _emit(ref, node_defs[ref.type], resolver, dynamic_prompts, warnings)
    return ConversionResult(prompt=prompt, warnings=warnings)


def _runs(ref: NodeRef, definitions: Mapping[str, Any], virtual_types: frozenset[str]) -> bool:
    """True for nodes the API prompt contains: active, not an instance, not front-end-only."""
    return (
        node_mode(ref.node) not in (MODE_MUTED, MODE_BYPASSED)
        and ref.type not in definitions
        and ref.type not in virtual_types
    )


def _check_types(runnable: list[NodeRef], node_defs: Mapping[str, Mapping[str, Any]]) -> None:
    legacy = [
        ref for ref in runnable if ref.type not in node_defs and ref.type.startswith(LEGACY_GROUP_PREFIXES)
    ]
    if legacy:
        names = ", ".join(ref.describe() for ref in legacy)
        raise WorkflowError(
            f"this workflow uses legacy group nodes ({names}), which graphflow cannot run. Open it in the "
            "ComfyUI front end and convert each group node to a subgraph (or ungroup it), save, and try again."
        )
    missing = [
        MissingNode(ref.exec_id, ref.type, str(ref.node.get("title") or ""))
        for ref in runnable
        if ref.type not in node_defs
    ]
    if missing:
        raise UnknownNodeTypeError(missing)


def _input_name(entry: Mapping[str, Any]) -> str:
    """The API input name of a saved input entry: its widget's name when it is a converted widget."""
    widget = entry.get("widget")
    if isinstance(widget, Mapping) and isinstance(widget.get("name"), str):
        return widget["name"]
    return str(entry.get("name"))


def _emit(
    ref: NodeRef,
    node_def: Mapping[str, Any],
    resolver: LinkResolver,
    rng: random.Random | None,
    warnings: list[str],
) -> dict[str, Any]:
    node = ref.node
    where = ref.describe()
    inputs = widget_inputs(
        node_def, node.get("widgets_values"), node.get("widgets_values_named"), where=where, warnings=warnings
    )
    if ref.instance is not None:  # proxy-widget values held by the enclosing instance win
        for name, value in resolver.host_values(ref.instance).inner.get(ref.key, {}).items():
            if name in inputs:
                inputs[name] = api_value(value)
    dynamic = {
        spec.name
        for spec in input_specs(node_def)
        if spec.type == "STRING" and spec.options.get("dynamicPrompts")
    }
    if rng is not None:
        for name in dynamic:
            if isinstance(inputs.get(name), str):
                inputs[name] = resolve_dynamic_prompt(inputs[name], rng)

    for slot, entry in enumerate(ref.inputs):
        if entry.get("link") is None:
            continue
        name = _input_name(entry)
        source = resolver.resolve_input(ref, slot)
        if isinstance(source, LinkOrigin):
            inputs[name] = [source.node_id, source.slot]
        elif isinstance(source, Literal):
            value = source.value
            if source.as_widget and rng is not None and name in dynamic and isinstance(value, str):
                value = resolve_dynamic_prompt(value, rng)
            inputs[name] = api_value(value)

    title = node.get("title")
    if not isinstance(title, str) or not title:
        title = node_def.get("display_name") or ref.type
    return {"class_type": ref.type, "inputs": inputs, "_meta": {"title": title}}
