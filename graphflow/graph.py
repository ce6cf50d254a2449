"""Parse an API-format prompt into a validated graph, checking the *whole* graph before anything runs.

Checked: prompt shape, unknown node types, missing required inputs, malformed and dangling links, output
indexes, socket type mismatches, constant values (pydantic coercion, ranges, combo choices), nodes' own
validation hooks, cycles (every node of every cycle is named) and the presence of output nodes.

Unlike ComfyUI, nodes that feed no output are validated too; their problems come back as warnings.
Everything here is iterative and linear in the size of the prompt.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphflow.coerce import coerce_constants
from graphflow.errors import NodeProblems, Problem, PromptError, ValidationReport
from graphflow.graph_checks import find_cycles, run_validate_hook
from graphflow.spec import InputSpec, NodeSpec
from graphflow.types import is_compatible

if TYPE_CHECKING:
    from graphflow.registry import NodeRegistry


@dataclass(slots=True)
class GraphNode:
    """One node of a validated prompt.

    ``links`` maps input name → (source node id, output index) for inputs the scheduler must evaluate;
    ``constants`` holds coerced constant values (and ``rawLink`` inputs, which receive the link itself).
    """

    id: str
    spec: NodeSpec
    title: str
    constants: dict[str, Any]
    links: dict[str, tuple[str, int]]
    parent: str | None = None
    display_id: str | None = None


@dataclass
class Graph:
    nodes: dict[str, GraphNode]
    order: list[str]  # every node, dependencies first
    outputs: list[str]  # the roots that will run
    prompt: dict[str, Any] = field(default_factory=dict)

    def upstream(self, node_id: str) -> list[str]:
        return [src for src, _ in self.nodes[node_id].links.values()]


class ValidationMemo:
    """Remembers coerced constants per (node type, constants) so an unchanged node is not re-validated."""

    def __init__(self, limit: int = 50_000) -> None:
        self._entries: dict[tuple[Any, ...], tuple[dict[str, Any], list[Problem]]] = {}
        self._limit = limit

    def coerce(
        self, spec: NodeSpec, constants: dict[str, Any], runtime: Any
    ) -> tuple[dict[str, Any], list[Problem]]:
        if spec.has_dynamic_choices:
            return coerce_constants(spec, constants, runtime)  # file lists change: always re-check
        try:
            key = (spec, *constants.items())
            hit = self._entries.get(key)
        except TypeError:  # an unhashable constant (list/dict): validate without memo
            return coerce_constants(spec, constants, runtime)
        if hit is None:
            if len(self._entries) >= self._limit:
                self._entries.clear()
            hit = self._entries[key] = coerce_constants(spec, constants, runtime)
        return dict(hit[0]), hit[1]


def _shape_error(prompt: Any, registry: NodeRegistry) -> PromptError | None:
    if not isinstance(prompt, Mapping):
        return PromptError(
            "invalid_prompt",
            "Cannot execute because the prompt is not a JSON object of nodes.",
            f"got {type(prompt).__name__}",
            {"fix": 'send {"<node id>": {"class_type": ..., "inputs": {...}}, ...}'},
        )
    unknown = []
    for node_id, raw in prompt.items():
        if not isinstance(raw, Mapping) or not isinstance(raw.get("class_type"), str):
            return PromptError(
                "invalid_prompt",
                "Cannot execute because a node is missing the class_type property.",
                f"Node ID '#{node_id}'",
                {"node_id": str(node_id), "fix": "give every node a class_type naming its node type"},
            )
        if raw["class_type"] not in registry:
            unknown.append((str(node_id), raw["class_type"]))
    if unknown:
        node_id, class_type = unknown[0]
        names = ", ".join(sorted({ct for _, ct in unknown}))
        extra: dict[str, Any] = {
            "missing_nodes": [{"node_id": nid, "class_type": ct} for nid, ct in unknown],
            "fix": f"install the node pack that provides {names}, or remove those nodes",
        }
        failed = [pack for pack in registry.packs if not pack.loaded]
        if failed:  # the missing types may well come from a pack that could not be imported
            extra["failed_packs"] = [{"name": pack.name, "error": pack.error} for pack in failed]
            extra["fix"] += (
                f"; node packs that failed to import: {', '.join(pack.name for pack in failed)}"
                " (see `graphflow nodes --packs`)"
            )
        return PromptError(
            "invalid_prompt",
            f"Cannot execute because node {class_type} does not exist.",
            f"Node ID '#{node_id}'",
            extra,
        )
    return None


def _parse_node(node_id: str, raw: Mapping[str, Any], spec: NodeSpec, memo: ValidationMemo, runtime: Any):
    problems: list[Problem] = []
    inputs = raw.get("inputs", {})
    if not isinstance(inputs, Mapping):
        problems.append(
            Problem("invalid_prompt", "inputs must be a JSON object", fix="send inputs as {name: value}")
        )
        inputs = {}
    constants: dict[str, Any] = {}
    links: dict[str, tuple[str, int]] = {}
    roles = spec.input_roles
    for name, value in inputs.items():
        role = roles.get(name, _UNDECLARED)
        kind = type(value)
        if (
            (kind is list or kind is tuple)
            and len(value) == 2
            and type(value[0]) is str
            and type(value[1]) is int
        ):
            if role == "raw":
                constants[name] = [value[0], value[1]]
            elif role != _UNDECLARED or spec.accepts_undeclared_inputs:
                links[name] = (value[0], value[1])
            continue
        if kind is dict and type(value.get("__value__")) is list:
            value = value["__value__"]
        if role == "constant" or role == "raw" or (role == _UNDECLARED and spec.accepts_undeclared_inputs):
            constants[name] = value
        elif role == "socket":
            problems.append(_bad_link(spec.input_map[name], value))
    for name in spec.required_inputs:
        if name not in inputs:
            problems.append(_missing(spec.input_map[name]))
    if constants:
        constants, value_problems = memo.coerce(spec, constants, runtime)
        problems.extend(value_problems)
    meta = raw.get("_meta")
    title = meta.get("title") if type(meta) is dict else None
    node = GraphNode(node_id, spec, title if type(title) is str else spec.display_name, constants, links)
    return node, problems


_UNDECLARED = "undeclared"


def _bad_link(ispec: InputSpec, value: Any) -> Problem:
    if isinstance(value, (list, tuple)) and len(value) == 2 and isinstance(value[0], int):
        fix = f'write the node id as a string: ["{value[0]}", {value[1]}]'
    else:
        fix = f"connect {ispec.name} to an output of type {ispec.type}"
    return Problem(
        "bad_linked_input",
        "Bad linked input, must be a length-2 list of [node_id, slot_index]",
        ispec.name,
        ispec.name,
        fix,
        {"input_config": ispec.object_info(None), "received_value": repr(value)},
    )


def _missing(ispec: InputSpec) -> Problem:
    fix = f"connect {ispec.name} to an output of type {ispec.type}"
    if ispec.accepts_constant:
        default = ispec.options.get("default")
        fix = f"add a value for {ispec.name}" + (f" (default {default!r})" if default is not None else "")
    return Problem("required_input_missing", "Required input is missing", ispec.name, ispec.name, fix)


def _check_links(graph_nodes: dict[str, GraphNode], node: GraphNode) -> list[Problem]:
    problems = []
    input_map = node.spec.input_map
    for name, (source_id, slot) in list(node.links.items()):
        source = graph_nodes.get(source_id)
        ispec = input_map.get(name)
        if source is None:
            del node.links[name]
            problems.append(
                Problem(
                    "missing_link_source",
                    f"Input is linked to node {source_id}, which is not in the prompt",
                    f"{name} <- node {source_id!r}",
                    name,
                    f"reconnect {name} to an existing node, or add node {source_id}",
                    {"linked_node": [source_id, slot]},
                )
            )
            continue
        outputs = source.spec.outputs
        if not 0 <= slot < len(outputs):
            del node.links[name]
            problems.append(
                Problem(
                    "missing_link_output",
                    f"Input is linked to output {slot} of node {source_id} ({source.spec.class_type}), "
                    f"which has {len(outputs)} output(s)",
                    f"{name} <- [{source_id!r}, {slot}]",
                    name,
                    f"link {name} to an output index from 0 to {len(outputs) - 1}"
                    if outputs
                    else "that node has no outputs",
                    {"linked_node": [source_id, slot]},
                )
            )
            continue
        if ispec is None or not node.spec.check_link_types:
            continue
        received = outputs[slot].type
        expected = ispec.type
        if expected == "COMBO":
            expected = "COMBO,STRING,*"
        if not is_compatible(received, expected):
            problems.append(
                Problem(
                    "return_type_mismatch",
                    "Return type mismatch between linked nodes",
                    f"{name}, received_type({received}) mismatch input_type({ispec.type})",
                    name,
                    f"connect {name} to an output of type {ispec.type}",
                    {
                        "input_config": ispec.object_info(None),
                        "received_type": received,
                        "linked_node": [source_id, slot],
                    },
                )
            )
    return problems


def validate_prompt(
    prompt: Any,
    registry: NodeRegistry,
    runtime: Any = None,
    *,
    partial_targets: list[str] | None = None,
    memo: ValidationMemo | None = None,
) -> tuple[Graph | None, ValidationReport]:
    """Validate an API-format prompt. Returns the graph to run (None when rejected) and the report."""
    report = ValidationReport()
    report.error = _shape_error(prompt, registry)
    if report.error is not None:
        return None, report
    memo = memo or ValidationMemo()
    nodes: dict[str, GraphNode] = {}
    problems: dict[str, list[Problem]] = {}
    for node_id, raw in prompt.items():
        node_id = str(node_id)
        spec = registry.get(raw["class_type"])
        node, node_problems = _parse_node(node_id, raw, spec, memo, runtime)
        nodes[node_id] = node
        if node_problems:
            problems[node_id] = node_problems
    for node in nodes.values():
        if node.links:
            link_problems = _check_links(nodes, node)
            if link_problems:
                problems.setdefault(node.id, []).extend(link_problems)
    for node in nodes.values():
        if node.spec.runner.has_validate and node.id not in problems:
            hook_problems = run_validate_hook(node, nodes, runtime)
            if hook_problems:
                problems[node.id] = hook_problems

    order, cyclic = _topological_order(nodes)
    for node_id, cycle_problem in find_cycles(nodes, cyclic).items():
        problems.setdefault(node_id, []).append(cycle_problem)

    roots, target_error = _roots(nodes, partial_targets)
    if target_error is not None:
        report.error = target_error
        return None, report
    _sort_problems(nodes, order, cyclic, roots, problems, report)
    if not report.outputs:
        own = [
            f"{p.message}: {p.details}"
            for nid, node_problems in report.node_errors.items()
            if nid in roots
            for p in node_problems.problems
        ]
        report.error = PromptError(
            "prompt_outputs_failed_validation", "Prompt outputs failed validation", "\n".join(own)
        )
        return None, report
    return Graph(nodes, order, report.outputs, dict(prompt)), report


def _topological_order(nodes: dict[str, GraphNode]) -> tuple[list[str], set[str]]:
    """Kahn's algorithm; nodes left over sit on or behind a cycle."""
    pending: dict[str, int] = {}
    consumers: dict[str, list[str]] = {}
    ready: deque[str] = deque()
    for nid, node in nodes.items():
        links = node.links
        if not links:
            pending[nid] = 0
            ready.append(nid)
            continue
        sources = {src for src, _ in links.values()} if len(links) > 1 else (next(iter(links.values()))[0],)
        pending[nid] = len(sources)
        for src in sources:
            if src in consumers:
                consumers[src].append(nid)
            else:
                consumers[src] = [nid]
    order = []
    while ready:
        nid = ready.popleft()
        order.append(nid)
        for consumer in consumers.get(nid, ()):
            pending[consumer] -= 1
            if pending[consumer] == 0:
                ready.append(consumer)
    if len(order) == len(nodes):
        return order, set()
    return order, set(nodes) - set(order)


def _roots(nodes: dict[str, GraphNode], targets: list[str] | None) -> tuple[list[str], PromptError | None]:
    if targets is not None:
        targets = [str(t) for t in targets]
        missing = [t for t in targets if t not in nodes]
        if missing:
            return [], PromptError(
                "prompt_no_outputs",
                "Prompt has no outputs",
                f"partial_execution_targets name nodes that are not in the prompt: {', '.join(missing)}",
                {"fix": "list ids of nodes in the prompt"},
            )
        roots = targets
    else:
        roots = [nid for nid, node in nodes.items() if node.spec.output_node]
    if not roots:
        return [], PromptError(
            "prompt_no_outputs",
            "Prompt has no outputs",
            "",
            {"fix": "add an output node such as SaveImage, PreviewImage or PreviewAny"},
        )
    return roots, None


def _sort_problems(nodes, order, cyclic, roots, problems, report) -> None:
    """Split problems into errors (they block an output) and warnings (they feed no output)."""
    if not problems and not cyclic:
        report.outputs = list(roots)
        return
    bad = set(problems)
    tainted: set[str] = set()
    for nid in [*order, *cyclic]:  # cyclic nodes and everything behind them cannot run
        node = nodes[nid]
        if nid in bad or nid in cyclic or any(src in tainted for src, _ in node.links.values()):
            tainted.add(nid)
    feeding = _ancestors(nodes, roots)
    report.outputs = [r for r in roots if r not in tainted]
    root_set = set(roots)
    consumers: dict[str, list[str]] = {}
    for nid, node in nodes.items():
        for src, _ in node.links.values():
            consumers.setdefault(src, []).append(nid)
    for nid, node_problems in problems.items():
        node = nodes[nid]
        entry = NodeProblems(nid, node.spec.class_type, node.title, node_problems)
        if nid in feeding:
            entry.dependent_outputs = _dependent_outputs(nodes, consumers, nid, root_set)
            report.node_errors[nid] = entry
        else:
            report.warnings[nid] = entry


def _ancestors(nodes: dict[str, GraphNode], starts: list[str]) -> set[str]:
    seen = set(starts)
    stack = list(starts)
    while stack:
        for src, _ in nodes[stack.pop()].links.values():
            if src not in seen and src in nodes:
                seen.add(src)
                stack.append(src)
    return seen


def _dependent_outputs(
    nodes: dict[str, GraphNode], consumers: dict[str, list[str]], start: str, roots: set[str]
) -> list[str]:
    seen = {start}
    stack = [start]
    while stack:
        for consumer in consumers.get(stack.pop(), ()):
            if consumer not in seen:
                seen.add(consumer)
                stack.append(consumer)
    return [nid for nid in nodes if nid in seen and nid in roots]
