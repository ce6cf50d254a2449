"""``async def`` FUNCTIONs run as tasks: several overlap instead of running one after another."""

from __future__ import annotations

from .helpers import executor_with, node, pack_module, run


def test_async_nodes_overlap_and_sync_nodes_wait_for_them(tmp_path):
    executor = executor_with(tmp_path / "base", "asynchronous")
    events = pack_module("asynchronous", "async_pack").EVENTS
    events.clear()
    prompt = {
        "1": node("AsyncSleep", label="x", seconds=0.2),
        "2": node("AsyncSleep", label="y", seconds=0.2),
        "3": node("AsyncSleep", label="z", seconds=0.2),
        "4": node("AsyncJoin", a=["1", 0], b=["2", 0], c=["3", 0]),
    }
    outcome, _ = run(executor, prompt)
    assert outcome.ok, outcome.error
    assert outcome.outputs["4"] == {"text": ["xyz"]}
    kinds = [kind for kind, _ in events]
    # All three sleeps started before any finished: they ran concurrently, not in sequence.
    assert kinds == ["start"] * 3 + ["finish"] * 3 + ["join"]
    assert sorted(label for kind, label in events if kind == "start") == ["x", "y", "z"]


def test_async_results_are_cached_like_any_other(tmp_path):
    executor = executor_with(tmp_path / "base", "asynchronous")
    prompt = {
        "1": node("AsyncSleep", label="p", seconds=0.0),
        "2": node("AsyncSleep", label="q", seconds=0.0),
        "3": node("AsyncSleep", label="r", seconds=0.0),
        "4": node("AsyncJoin", a=["1", 0], b=["2", 0], c=["3", 0]),
    }
    run(executor, prompt)
    outcome, _ = run(executor, prompt)
    assert outcome.executed == [] and sorted(outcome.cached) == ["1", "2", "3", "4"]
    assert outcome.outputs["4"] == {"text": ["pqr"]}
