"""Lazy inputs: only what check_lazy_status asks for runs, and the node is announced again on resume."""

from __future__ import annotations

import pytest

from graphflow.events import NodeStarted

from .helpers import executor_with, node, run


@pytest.fixture
def executor(tmp_path):
    return executor_with(tmp_path / "base", "lazy")


def _prompt(class_type: str, use_second: bool) -> dict:
    return {
        "1": node("PrimitiveInt", value=1),
        "2": node("PrimitiveInt", value=2),
        "3": node(class_type, use_second=use_second, first=["1", 0], second=["2", 0]),
        "4": node("PreviewAny", source=["3", 0]),
    }


@pytest.mark.parametrize("class_type", ["LazyPick", "LazyAsyncPick"])
@pytest.mark.parametrize(
    ("use_second", "runs", "skipped", "shown"), [(False, "1", "2", "1"), (True, "2", "1", "2")]
)
def test_only_the_requested_branch_runs(executor, class_type, use_second, runs, skipped, shown):
    outcome, events = run(executor, _prompt(class_type, use_second))
    assert outcome.ok, outcome.error
    assert outcome.outputs["4"] == {"text": [shown]}
    assert runs in outcome.executed and skipped not in outcome.executed
    started = [e.node_id for e in events if isinstance(e, NodeStarted)]
    # The lazy node starts, its requested input runs, then it is announced a second time.
    assert started.count("3") == 2
    assert started.index("3") < started.index(runs) < len(started) - 1 - started[::-1].index("3")


def test_a_required_lazy_input_must_still_be_connected(executor):
    prompt = {"3": node("LazyPick", use_second=False, first=["1", 0]), "1": node("PrimitiveInt", value=1)}
    prompt["4"] = node("PreviewAny", source=["3", 0])
    graph, report = executor.validate(prompt)
    assert graph is None
    errors = report.comfy_json()["node_errors"]["3"]["errors"]
    assert [(e["type"], e["extra_info"]["input_name"]) for e in errors] == [
        ("required_input_missing", "second")
    ]


def test_input_is_list_nodes_check_whole_lists(tmp_path):
    executor = executor_with(tmp_path / "base", "lazy", "lists")
    prompt = {
        "1": node("ListMake", count=3, start=1),
        "2": node("ListMake", count=2, start=7),
        "3": node("LazyPickList", use_second=False, first=["1", 0], second=["2", 0]),
        "4": node("PreviewAny", source=["3", 0]),
    }
    outcome, _ = run(executor, prompt)
    assert outcome.ok, outcome.error
    assert outcome.outputs["4"] == {"text": ["1", "2", "3"]}
    assert "2" not in outcome.executed
