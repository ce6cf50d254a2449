"""ExecutionBlocker: consumers are skipped; a message is reported once and the run goes on."""

from __future__ import annotations

import pytest

from graphflow.events import ExecutionError

from .helpers import executor_with, node, run


@pytest.fixture
def executor(tmp_path):
    return executor_with(tmp_path / "base", "blockers", "lists")


def test_a_silent_blocker_skips_its_consumers(executor):
    prompt = {
        "1": node("BlockGate", value=5, blocked=5, message=""),
        "2": node("BlockShow", value=["1", 0]),
        "3": node("BlockShow", value=7),
    }
    outcome, events = run(executor, prompt)
    assert outcome.status == "success"
    assert "2" not in outcome.outputs and outcome.outputs["3"] == {"text": ["7"]}
    assert not [e for e in events if isinstance(e, ExecutionError)]


def test_a_blocker_message_is_reported_and_the_run_continues(executor):
    prompt = {
        "1": node("BlockGate", value=5, blocked=5, message="five is closed"),
        "2": node("BlockShow", value=["1", 0]),
        "3": node("BlockShow", value=["4", 0]),
        "4": node("BlockGate", value=6, blocked=5, message=""),
    }
    outcome, events = run(executor, prompt)
    assert outcome.status == "success"
    assert outcome.outputs == {"3": {"text": ["6"]}}
    errors = [e for e in events if isinstance(e, ExecutionError)]
    assert [(e.node_id, e.exception_type, e.exception_message, e.blocked) for e in errors] == [
        ("2", "ExecutionBlocked", "five is closed", True)
    ]


def test_only_the_blocked_item_of_a_list_is_skipped(executor):
    prompt = {
        "1": node("ListMake", count=3, start=1),
        "2": node("BlockGate", value=["1", 0], blocked=2, message=""),
        "3": node("BlockShow", value=["2", 0]),
    }
    outcome, _ = run(executor, prompt)
    assert outcome.outputs["3"] == {"text": ["1", "3"]}  # 2 of 3 shown


def test_a_returned_blocker_blocks_every_output(executor):
    prompt = {
        "1": node("BlockEverything"),
        "2": node("BlockShow", value=["1", 0]),
        "3": node("BlockShow", value=["1", 1]),
        "4": node("BlockShow", value=1),
    }
    outcome, _ = run(executor, prompt)
    assert outcome.ok and outcome.outputs == {"4": {"text": ["1"]}}
