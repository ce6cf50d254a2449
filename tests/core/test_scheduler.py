"""The scheduler: what runs, what comes from cache and why, failures, cancellation, events, depth."""

from __future__ import annotations

import threading

import pytest

from graphflow.context import CancelToken
from graphflow.events import (
    ExecutionCached,
    ExecutionError,
    ExecutionInterrupted,
    NodeFinished,
    NodeStarted,
    Progress,
)

from .nodes_for_tests import FINGERPRINTS


def add(a=1, b=2):
    return {"class_type": "TestAdd", "inputs": {"a": a, "b": b}}


def show(source):
    return {"class_type": "TestShow", "inputs": {"value": source}}


def run(executor, prompt, **kwargs):
    graph, report = executor.validate(prompt)
    assert graph is not None, report.text_lines()
    return executor.execute(graph, **kwargs)


def chain_prompt():
    return {
        "1": add(1, 2),
        "2": {"class_type": "TestAdd", "inputs": {"a": ["1", 0], "b": 10}},
        "3": show(["2", 0]),
    }


def test_runs_outputs_and_ancestors_only(executor, calls):
    prompt = {**chain_prompt(), "9": add(5, 5)}  # 9 feeds nothing: never runs
    outcome = run(executor, prompt)
    assert outcome.ok
    assert outcome.executed == ["1", "2", "3"]
    assert outcome.outputs == {"3": {"text": ["13"]}}
    assert "add:9" not in calls


def test_identical_rerun_executes_nothing(executor):
    run(executor, chain_prompt())
    outcome = run(executor, chain_prompt())
    assert outcome.executed == []
    assert sorted(outcome.cached) == ["1", "2", "3"]
    assert outcome.outputs == {"3": {"text": ["13"]}}  # cached output nodes still report their ui
    assert outcome.reasons["1"] == "inputs unchanged since it last ran"


def test_upstream_constant_change_reruns_descendants(executor):
    run(executor, chain_prompt())
    prompt = chain_prompt()
    prompt["1"]["inputs"]["a"] = 2
    outcome = run(executor, prompt)
    assert outcome.executed == ["1", "2", "3"]
    assert outcome.reasons["1"] == "input 'a' changed"
    assert outcome.reasons["2"] == "upstream input 'a' changed"
    assert outcome.outputs["3"] == {"text": ["14"]}


def test_downstream_constant_change_reruns_only_downstream(executor):
    run(executor, chain_prompt())
    prompt = chain_prompt()
    prompt["2"]["inputs"]["b"] = 20
    outcome = run(executor, prompt)
    assert outcome.executed == ["2", "3"]
    assert outcome.cached == ["1"]


def test_fingerprint_change_reruns(executor, calls):
    prompt = {"1": {"class_type": "TestFingerprint", "inputs": {"name": "f"}}, "2": show(["1", 0])}
    run(executor, prompt)
    assert run(executor, prompt).executed == []
    FINGERPRINTS["value"] = 1
    outcome = run(executor, prompt)
    assert outcome.executed == ["1", "2"]
    assert "fingerprint changed" in outcome.reasons["1"]
    assert outcome.outputs["2"] == {"text": ["f1"]}


def test_nan_fingerprint_always_reruns(executor):
    FINGERPRINTS["value"] = float("nan")
    prompt = {"1": {"class_type": "TestFingerprint", "inputs": {"name": "f"}}, "2": show(["1", 0])}
    run(executor, prompt)
    outcome = run(executor, prompt)
    assert outcome.executed == ["1", "2"]
    assert "every time" in outcome.reasons["1"]


def test_identical_subgraph_under_other_ids_hits_cache(executor):
    run(executor, chain_prompt())
    renamed = {
        "a": add(1, 2),
        "b": {"class_type": "TestAdd", "inputs": {"a": ["a", 0], "b": 10}},
        "c": show(["b", 0]),
    }
    outcome = run(executor, renamed)
    assert outcome.executed == []
    assert outcome.reasons["a"] == "identical to a result already computed for node 1"


def test_failure_keeps_everything_computed(executor, calls):
    prompt = {
        "1": add(1, 2),
        "2": {"class_type": "TestFail", "inputs": {"value": ["1", 0]}},
        "3": show(["2", 0]),
    }
    events = []
    outcome = run(executor, prompt, on_event=events.append)
    assert outcome.status == "error"
    error = outcome.error
    assert (error.node_id, error.node_type, error.exception_type) == ("2", "TestFail", "RuntimeError")
    assert error.exception_message == "this node always fails"
    assert error.executed == ["1"]
    assert error.current_inputs == {"value": ["3"]}
    assert any("this node always fails" in line for line in error.traceback)
    assert isinstance(events[-1], ExecutionError)
    # fixing the graph re-uses node 1 from cache
    prompt["2"] = {"class_type": "TestAdd", "inputs": {"a": ["1", 0], "b": 0}}
    outcome = run(executor, prompt)
    assert outcome.cached == ["1"] and outcome.executed == ["2", "3"]


def test_cancel_between_nodes_and_at_progress(executor):
    token = CancelToken()
    prompt = {"1": {"class_type": "TestSteps", "inputs": {"steps": 50}}, "2": show(["1", 0])}
    events = []

    def on_event(event):
        events.append(event)
        if isinstance(event, Progress) and event.value == 3:
            token.cancel("user pressed stop")

    outcome = run(executor, prompt, on_event=on_event, cancel=token)
    assert outcome.status == "interrupted"
    assert outcome.interrupted.node_id == "1" and outcome.interrupted.reason == "user pressed stop"
    assert max(e.value for e in events if isinstance(e, Progress)) == 3
    assert isinstance(events[-1], ExecutionInterrupted)
    # a token cancelled before the run stops before the first node
    token2 = CancelToken()
    token2.cancel()
    outcome = run(executor, chain_prompt(), cancel=token2)
    assert outcome.status == "interrupted" and outcome.executed == []


def test_cancel_from_another_thread(executor):
    token = CancelToken()
    started = threading.Event()

    def on_event(event):
        if isinstance(event, Progress):
            started.set()

    prompt = {"1": {"class_type": "TestSteps", "inputs": {"steps": 100}}, "2": show(["1", 0])}
    threading.Timer(0.0, lambda: started.wait(5) and token.cancel()).start()
    outcome = run(executor, prompt, on_event=on_event, cancel=token)
    assert outcome.status in ("interrupted", "success")  # a tiny node may finish first; never an error


def test_event_sequence_and_reasons(executor):
    events = []
    run(executor, chain_prompt(), on_event=events.append)
    names = [type(e).__name__ for e in events]
    assert names[:2] == ["ExecutionStart", "ExecutionCached"]
    assert names[-1] == "ExecutionSuccess"
    started = [e for e in events if isinstance(e, NodeStarted)]
    assert [e.node_id for e in started] == ["1", "2", "3"]
    assert all(e.reason == "not computed before" for e in started)
    finished = [e for e in events if isinstance(e, NodeFinished)]
    assert finished[-1].ui == {"text": ["13"]}

    events.clear()
    run(executor, chain_prompt(), on_event=events.append)
    cached = next(e for e in events if isinstance(e, ExecutionCached))
    assert sorted(cached.nodes) == ["1", "2", "3"]
    replay = [e for e in events if isinstance(e, NodeFinished)]
    assert [(e.node_id, e.cached) for e in replay] == [("3", True)]


@pytest.mark.parametrize("length", [10_000])
def test_deep_chain_runs_without_recursion(executor, length):
    prompt = {
        "0": {"class_type": "EmptyImage", "inputs": {"width": 2, "height": 2, "batch_size": 1, "color": 0}}
    }
    for i in range(1, length + 1):
        prompt[str(i)] = {"class_type": "ImageInvert", "inputs": {"image": [str(i - 1), 0]}}
    prompt["out"] = {"class_type": "PreviewAny", "inputs": {"source": [str(length), 0]}}
    outcome = run(executor, prompt)
    assert outcome.ok and len(outcome.executed) == length + 2
    assert "max 0" in outcome.outputs["out"]["text"][0]  # an even number of inversions of black is black


def test_keep_values_exposes_results(executor):
    outcome = run(executor, chain_prompt(), keep_values=True)
    assert outcome.values["2"] == [[13]]


def test_values_equal_in_python_but_not_as_inputs_do_not_share_results(executor):
    first = run(
        executor,
        {
            "1": {"class_type": "TestShow", "inputs": {"value": ["2", 0]}},
            "2": {"class_type": "PrimitiveFloat", "inputs": {"value": 1.0}},
        },
    )
    assert first.outputs["1"] == {"text": ["1.0"]}
    prompt = {
        "1": {"class_type": "TestShow", "inputs": {"value": ["2", 0]}},
        "2": {"class_type": "PrimitiveInt", "inputs": {"value": 1}},
    }
    assert run(executor, prompt).outputs["1"] == {"text": ["1"]}
