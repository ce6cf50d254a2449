"""VALIDATE_INPUTS: skip rules, ComfyUI's error shape (one error per input passed), async hooks."""

from __future__ import annotations

import pytest

from .helpers import executor_with, node, run


@pytest.fixture
def executor(tmp_path):
    return executor_with(tmp_path / "base", "validation")


def _errors(executor, prompt, node_id="1"):
    graph, report = executor.validate(prompt)
    assert graph is None, "expected the prompt to be rejected"
    return report.comfy_json()["node_errors"][node_id]["errors"]


def test_named_inputs_skip_min_max_but_others_do_not(executor):
    outcome, _ = run(executor, {"1": node("ValEvenAmount", amount=12, other=2)})
    assert outcome.outputs["1"] == {"text": ["amount=12, other=2"]}  # 12 > max: the hook decides
    errors = _errors(executor, {"1": node("ValEvenAmount", amount=4, other=11)})
    assert [e["type"] for e in errors] == ["value_bigger_than_max"]
    errors = _errors(executor, {"1": node("ValEvenAmount", amount=3, other=1)})
    assert errors == [
        {
            "type": "custom_validation_failed",
            "message": "Custom validation failed for node",
            "details": "amount - odd amounts are not allowed",
            "extra_info": {"input_name": "amount", "fix": "odd amounts are not allowed"},
        }
    ]


def test_kwargs_skip_every_builtin_check(executor):
    outcome, _ = run(executor, {"1": node("ValNoSevens", number=99, flavour="bitter")})
    assert outcome.outputs["1"] == {"text": ["flavour='bitter', number=99"]}
    errors = _errors(executor, {"1": node("ValNoSevens", number=7, flavour="sweet")})
    # One error per input passed to the hook, all with the same message.
    assert [(e["extra_info"]["input_name"], e["details"]) for e in errors] == [
        ("number", "number - 7s are not allowed"),
        ("flavour", "flavour - 7s are not allowed"),
    ]


def test_input_types_replaces_link_type_checks(executor):
    from_float = {"1": node("ValFloatOnly", value=["2", 0]), "2": node("PrimitiveFloat", value=1.5)}
    assert run(executor, from_float)[0].outputs["1"] == {"text": ["value=1.5"]}
    from_int = {"1": node("ValFloatOnly", value=["2", 0]), "2": node("PrimitiveInt", value=1)}
    errors = _errors(executor, from_int)
    assert [e["type"] for e in errors] == ["custom_validation_failed"]  # not return_type_mismatch
    assert errors[0]["details"] == "input_types - value must be a FLOAT, got INT"


@pytest.mark.parametrize(("value", "accepted"), [(5, False), ("foo", False), (5.0, True)])
def test_union_literals_are_not_coerced(executor, value, accepted):
    prompt = {"1": node("ValUnionFloat", input1=value, input2=1.0)}
    graph, report = executor.validate(prompt)
    assert (graph is not None) is accepted
    if not accepted:
        errors = report.comfy_json()["node_errors"]["1"]["errors"]
        assert [e["extra_info"]["input_name"] for e in errors] == ["input1", "input2"]
        assert errors[1]["details"] == f"input2 - Invalid type of input1: {type(value)}"


def test_false_result_names_only_the_input(executor):
    errors = _errors(executor, {"1": node("ValRefuses", anything="no")})
    assert [(e["type"], e["details"]) for e in errors] == [("custom_validation_failed", "anything")]


def test_async_validate_inputs(executor):
    assert run(executor, {"1": node("ValAsyncCheck", word="hello")})[0].ok
    errors = _errors(executor, {"1": node("ValAsyncCheck", word="h3llo")})
    assert errors[0]["details"] == "word - 'h3llo' is not a word"
