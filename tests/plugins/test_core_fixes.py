"""Scheduler fixes found while exercising ComfyUI semantics, tested with native nodes (no packs)."""

from __future__ import annotations

from graphflow import Input, IntOutput, Node, NodeContext, NodeResult, node
from graphflow.bootstrap import builtin_registry
from graphflow.context import Runtime
from graphflow.paths import Paths
from graphflow.registry import PackStatus
from graphflow.scheduler import Executor


@node("FixConst", category="testing")
class Const(Node):
    value: int = Input(0)

    def run(self, ctx: NodeContext) -> IntOutput:
        return IntOutput(self.value)


@node("FixDouble", category="testing")
class Double(Node):
    value: int = Input(0)

    def run(self, ctx: NodeContext) -> IntOutput:
        return IntOutput(self.value * 2)


@node("FixExpandDouble", category="testing")
class ExpandDouble(Node):
    """Expands into a FixDouble fed by the node that feeds *this* node (a link to an existing node)."""

    value: int = Input(0)

    def run(self, ctx: NodeContext) -> IntOutput:
        source = ctx.prompt[ctx.node_id]["inputs"]["value"]
        new_id = f"{ctx.node_id}.0.0.1"
        graph = {new_id: {"class_type": "FixDouble", "inputs": {"value": source}}}
        return NodeResult(([new_id, 0],), None, graph)  # type: ignore[return-value]


def _executor(tmp_path) -> Executor:
    registry = builtin_registry()
    registry.register_all(
        [Const, Double, ExpandDouble], pack=registry.add_pack(PackStatus("fixes", "tests", "native"))
    )
    return Executor(Runtime(registry, Paths.at(tmp_path).ensure()))


def test_expanded_nodes_may_link_to_existing_nodes(tmp_path):
    executor = _executor(tmp_path)
    prompt = {
        "1": {"class_type": "FixConst", "inputs": {"value": 21}},
        "2": {"class_type": "FixExpandDouble", "inputs": {"value": ["1", 0]}},
        "3": {"class_type": "PreviewAny", "inputs": {"source": ["2", 0]}},
    }
    graph, report = executor.validate(prompt)
    assert graph is not None, report.text_lines()
    outcome = executor.execute(graph)
    assert outcome.ok, outcome.error
    assert outcome.outputs["3"] == {"text": ["42"]}
    assert "2.0.0.1" in outcome.executed
