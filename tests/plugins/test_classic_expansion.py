"""Node expansion: deterministic ids, results resolved from the new nodes, rawLink, cycles, loops."""

from __future__ import annotations

import pytest

from graphflow.events import NodeStarted

from .helpers import executor_with, node, run


@pytest.fixture
def executor(tmp_path):
    return executor_with(tmp_path / "base", "expansion", "lists")


def test_result_comes_from_the_expanded_node(executor):
    prompt = {"5": node("ExpDoubleOdd", value=21), "6": node("PreviewAny", source=["5", 0])}
    outcome, events = run(executor, prompt)
    assert outcome.ok, outcome.error
    assert outcome.outputs["6"] == {"text": ["42"]}
    expanded = [e for e in events if isinstance(e, NodeStarted) and e.node_id == "5.0.0.1"]
    assert len(expanded) == 1  # id: node 5, call 0, first builder, first node
    assert (expanded[0].display_node_id, expanded[0].parent_node_id, expanded[0].real_node_id) == (
        "5",
        "5",
        "5",
    )


def test_expansion_per_list_item_mixes_with_plain_results(executor):
    prompt = {
        "1": node("ListMake", count=3, start=1),  # [1, 2, 3]
        "2": node("ExpDoubleOdd", value=["1", 0]),  # 1 and 3 expand, 2 is returned as is
        "3": node("PreviewAny", source=["2", 0]),
    }
    outcome, _ = run(executor, prompt)
    assert outcome.outputs["3"] == {"text": ["2", "2", "6"]}
    assert {"2.0.0.1", "2.2.0.1"} <= set(outcome.executed) and "2.1.0.1" not in outcome.executed


def test_identical_expansion_is_cached_on_the_next_run(executor):
    prompt = {"5": node("ExpDoubleOdd", value=7), "6": node("PreviewAny", source=["5", 0])}
    run(executor, prompt)
    outcome, _ = run(executor, prompt)
    assert outcome.executed == [] and outcome.outputs["6"] == {"text": ["14"]}


def test_raw_link_receives_the_link_and_expansion_wires_to_it(executor):
    prompt = {
        "1": node("PrimitiveInt", value=8),
        "2": node("ExpTwiceRaw", source=["1", 0]),
        "3": node("PreviewAny", source=["2", 0]),
    }
    outcome, events = run(executor, prompt)
    assert outcome.outputs["3"] == {"text": ["16"]}
    started = [e.node_id for e in events if isinstance(e, NodeStarted)]
    # No dependency on node 1 until the expanded node needs it.
    assert started.index("2") < started.index("1") < started.index("2.0.0.1")


def test_a_cycle_made_by_expansion_is_an_error_of_the_expanding_node(executor):
    prompt = {"4": node("ExpMakeCycle"), "5": node("PreviewAny", source=["4", 0])}
    outcome, _ = run(executor, prompt)
    assert outcome.status == "error"
    assert outcome.error.node_id == "4" and outcome.error.node_type == "ExpMakeCycle"
    assert "cycle" in outcome.error.exception_message and "4.0.0.1" in outcome.error.exception_message


def test_a_loop_copies_its_body_through_dynprompt(executor):
    prompt = {
        "1": node("ExpLoopOpen", remaining=3, value=1),
        "2": node("ExpMultiply", a=["1", 2], b=3),  # the loop body: value * 3
        "3": node("ExpLoopClose", flow=["1", 0], remaining=["1", 1], value=["2", 0]),
        "4": node("PreviewAny", source=["3", 0]),
    }
    outcome, events = run(executor, prompt)
    assert outcome.ok, outcome.error
    assert outcome.outputs["4"] == {"text": ["27"]}  # 1 * 3 * 3 * 3
    body_runs = [e for e in events if isinstance(e, NodeStarted) and e.class_type == "ExpMultiply"]
    assert len(body_runs) == 3
    assert {e.display_node_id for e in body_runs} == {"2"}  # the editor highlights the original body node


def test_a_list_output_resolves_to_every_item_of_the_expanded_node(executor):
    prompt = {"1": node("ExpRangeViaGraph", count=3), "2": node("PreviewAny", source=["1", 0])}
    outcome, _ = run(executor, prompt)
    assert outcome.ok, outcome.error
    assert outcome.outputs["2"] == {"text": ["1", "2", "3"]}
