"""Undeclared inputs reach a FUNCTION that takes ``**kwargs`` and are not validated."""

from __future__ import annotations

from .helpers import executor_with, node, run


def test_undeclared_inputs_are_passed_as_keyword_arguments(tmp_path):
    executor = executor_with(tmp_path / "base", "undeclared")
    prompt = {
        "1": node("PrimitiveInt", value=1),
        "2": node("PrimitiveInt", value=20),
        "3": node("UndeclaredSum", input1=["1", 0], input2=["2", 0], input3=300),
    }
    outcome, _ = run(executor, prompt)
    assert outcome.outputs["3"] == {"text": ["321 from ['input1', 'input2', 'input3']"]}


def test_a_function_without_kwargs_does_not_receive_them(tmp_path):
    executor = executor_with(tmp_path / "base", "undeclared")
    prompt = {"1": node("UndeclaredStrict", a=4, b=99), "2": node("PreviewAny", source=["1", 0])}
    outcome, _ = run(executor, prompt)
    assert outcome.ok, outcome.error
    assert outcome.outputs["2"] == {"text": ["4"]}
