"""List values: OUTPUT_IS_LIST fans out, ordinary nodes map over items, INPUT_IS_LIST takes whole lists."""

from __future__ import annotations

import pytest

from .helpers import executor_with, node, run


@pytest.fixture
def executor(tmp_path):
    return executor_with(tmp_path / "base", "lists")


def test_nodes_map_over_lists_and_shorter_lists_repeat_their_last_item(executor):
    prompt = {
        "1": node("ListMake", count=3, start=1),  # [1, 2, 3]
        "2": node("ListMake", count=2, start=10),  # [10, 11]
        "3": node("ListAddPair", a=["1", 0], b=["2", 0]),
        "4": node("PreviewAny", source=["3", 0]),
    }
    outcome, _ = run(executor, prompt)
    assert outcome.ok, outcome.error
    # Three calls: (1, 10), (2, 11), (3, 11); their ui lists are concatenated.
    assert outcome.outputs["3"] == {"text": ["1+10", "2+11", "3+11"]}
    assert outcome.outputs["4"] == {"text": ["11", "13", "14"]}  # PreviewAny mapped over the 3 sums


def test_input_is_list_gets_every_input_as_one_list(executor):
    prompt = {
        "1": node("ListMake", count=4, start=1),
        "2": node("ListTotal", values=["1", 0], scale=10),
    }
    outcome, _ = run(executor, prompt, keep_values=True)
    assert outcome.outputs["2"] == {"text": ["[1, 2, 3, 4]x[10]"]}
    assert outcome.values["2"] == [[100]]  # called once


def test_list_outputs_of_several_calls_are_concatenated(executor):
    prompt = {
        "1": node("ListMake", count=2, start=2),  # counts [2, 3]
        "2": node("ListMake", count=["1", 0], start=100),  # called twice: [100, 101] + [100, 101, 102]
        "3": node("ListTotal", values=["2", 0], scale=1),
        "4": node("ListTotal", values=["2", 1], scale=1),  # the non-list output: one item per call
    }
    outcome, _ = run(executor, prompt, keep_values=True)
    assert outcome.outputs["3"] == {"text": ["[100, 101, 100, 101, 102]x[1]"]}
    assert outcome.outputs["4"] == {"text": ["[2, 3]x[1]"]}
    assert outcome.values["2"] == [[100, 101, 100, 101, 102], [2, 3]]
