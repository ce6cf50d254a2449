"""IS_CHANGED: an unchanged value means cached; NaN or an exception means run every time."""

from __future__ import annotations

import pytest

from .helpers import executor_with, node, pack_module, run


@pytest.fixture
def executor(tmp_path):
    return executor_with(tmp_path / "base", "is_changed")


def _prompt(class_type: str) -> dict:
    return {"1": node(class_type, value=3), "2": node("PreviewAny", source=["1", 0])}


@pytest.mark.parametrize(
    ("class_type", "runs_again"),
    [("ChangedStable", False), ("ChangedVolatile", True), ("ChangedBroken", True)],
)
def test_second_run(executor, class_type, runs_again):
    first, _ = run(executor, _prompt(class_type))
    assert first.executed == ["1", "2"]
    second, _ = run(executor, _prompt(class_type))
    assert ("1" in second.executed) is runs_again
    assert second.outputs["2"] == {"text": ["3"]}
    third, _ = run(executor, _prompt(class_type))
    assert ("1" in third.executed) is runs_again


def test_linked_inputs_reach_is_changed_as_none(executor):
    seen = pack_module("is_changed", "is_changed_pack").SEEN
    seen.clear()
    prompt = {
        "1": node("PrimitiveInt", value=4),
        "2": node("ChangedStable", value=1, upstream=["1", 0]),
        "3": node("PreviewAny", source=["2", 0]),
    }
    outcome, _ = run(executor, prompt)
    assert outcome.outputs["3"] == {"text": ["5"]}
    assert seen == [{"value": 1, "upstream": None}]


def test_a_file_fingerprint_reruns_only_when_the_file_changes(executor, tmp_path):
    source = tmp_path / "note.txt"
    source.write_text("first")
    prompt = {"1": node("ChangedReadFile", path=str(source)), "2": node("PreviewAny", source=["1", 0])}
    assert run(executor, prompt)[0].outputs["2"] == {"text": ["first"]}
    unchanged, _ = run(executor, prompt)
    assert unchanged.executed == []
    source.write_text("second")
    changed, _ = run(executor, prompt)
    assert changed.executed == ["1", "2"] and changed.outputs["2"] == {"text": ["second"]}
