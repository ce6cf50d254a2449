"""Calling a node over list values: ComfyUI's mapping rules, blockers and result merging.

Every value on an edge is a list of items (usually one). A node is called once per item index, shorter
lists repeating their last item, unless it declares ``input_is_list``, in which case it is called once with
whole lists. Outputs declared ``is_list`` are concatenated across calls; the others collect one item per
call. An :class:`ExecutionBlocker` item skips that call, and its outputs become blockers too.
"""

from __future__ import annotations

from typing import Any

from graphflow.spec import NodeSpec
from graphflow.values import ExecutionBlocker, NodeResult, is_link


def call_arguments(spec: NodeSpec, inputs: dict[str, list[Any]]) -> list[dict[str, Any] | ExecutionBlocker]:
    """The keyword arguments of each call (or the blocker that cancels that call)."""
    if spec.input_is_list:
        return [inputs]
    if not inputs:
        return [{}]
    lengths = [len(items) for items in inputs.values()]
    if min(lengths) == 0:
        return []
    calls: list[dict[str, Any] | ExecutionBlocker] = []
    for index in range(max(lengths)):
        args: dict[str, Any] = {}
        blocker = None
        for name, items in inputs.items():
            item = items[index] if index < len(items) else items[-1]
            if blocker is None and type(item) is ExecutionBlocker:
                blocker = item
            args[name] = item
        calls.append(blocker if blocker is not None else args)
    return calls


def merge_results(
    spec: NodeSpec, results: list[NodeResult | ExecutionBlocker]
) -> tuple[list[list[Any]], dict | None]:
    """Per-output item lists and the merged ``ui`` of all calls (lists concatenated per key)."""
    outputs: list[list[Any]] = [[] for _ in spec.outputs]
    ui: dict[str, list[Any]] | None = None
    for result in results:
        if type(result) is ExecutionBlocker:
            for items in outputs:
                items.append(result)
            continue
        values = result.outputs
        for slot, out in enumerate(spec.outputs):
            value = values[slot] if slot < len(values) else None
            if out.is_list and type(value) is not ExecutionBlocker and not (result.expand and is_link(value)):
                outputs[slot].extend(value or ())  # a link into an expansion is resolved to its items later
            else:
                outputs[slot].append(value)
        if result.ui:
            ui = ui or {}
            for key, items in result.ui.items():
                ui.setdefault(key, []).extend(items if isinstance(items, list) else [items])
    return outputs, ui
