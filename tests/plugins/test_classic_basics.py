"""Classic class attributes: object_info exactly as ComfyUI emits it, hidden inputs, kept instances."""

from __future__ import annotations

import json

import pytest

from .helpers import executor_with, node, run


@pytest.fixture
def executor(tmp_path):
    return executor_with(tmp_path / "base", "basics")


def test_object_info_reproduces_the_class(executor):
    info = executor.runtime.registry.get("BasicsDescribe").object_info(executor.runtime)
    expected = {
        "input": {
            "required": {
                "word": ["STRING", {"default": "hi"}],
                "times": ["INT", {"default": 1, "min": 1, "max": 5}],
                "mode": [["plain", "loud"], {"default": "plain"}],
                "style": ["COMBO", {"options": ["dash", "space"], "default": "space"}],
            },
            "optional": {"suffix": ["*"]},
            "hidden": {"prompt": "PROMPT", "unique_id": "UNIQUE_ID", "extra_pnginfo": "EXTRA_PNGINFO"},
        },
        "input_order": {
            "required": ["word", "times", "mode", "style"],
            "optional": ["suffix"],
            "hidden": ["prompt", "unique_id", "extra_pnginfo"],
        },
        "output": ["STRING", "INT"],
        "output_is_list": [False, False],
        "output_name": ["text", "calls"],
        "name": "BasicsDescribe",
        "display_name": "Describe (basics)",
        "description": "Repeat a word and say who asked.",
        "python_module": "custom_nodes.basics_pack",
        "category": "testing/basics",
        "output_node": False,
        "output_tooltips": ["The repeated word.", "How often this node instance ran."],
    }
    assert info == expected
    assert list(info) == list(expected)  # key order as ComfyUI's
    assert json.loads(json.dumps(info)) == expected  # plain JSON: enum and str-subclass types are strings


def test_defaults_and_flags(executor):
    registry = executor.runtime.registry
    bare = registry.get("BasicsBare").object_info(executor.runtime)
    assert bare["input"] == {"required": {}} and bare["input_order"] == {"required": []}
    assert (bare["display_name"], bare["category"], bare["description"]) == ("BasicsBare", "sd", "")
    assert "deprecated" not in bare and "output_tooltips" not in bare
    show = registry.get("BasicsShowText").object_info(executor.runtime)
    assert show["output_node"] is True and show["deprecated"] is True and show["experimental"] is True
    assert show["output"] == [] and show["input"]["required"]["text"] == ["STRING", {"forceInput": True}]
    json.dumps(registry.object_info(executor.runtime))  # the whole table serialises (graphflow nodes --json)


def test_runs_with_hidden_inputs_and_ui_result(executor):
    prompt = {
        "1": node("BasicsDescribe", word="ab", times=2, mode="loud", style="dash"),
        "2": node("BasicsShowText", text=["1", 0]),
    }
    outcome, _ = run(executor, prompt, extra_data={"extra_pnginfo": {"workflow": {}}})
    assert outcome.ok, outcome.error
    assert outcome.outputs["2"] == {"text": ["AB-AB!"]}
    assert outcome.outputs["1"] == {"text": ["node 1 of 2 nodes, pnginfo ['workflow']"]}


def test_literal_values_for_socket_inputs_pass_through(executor):
    prompt = {
        "1": node("BasicsDescribe", word="x", times=1, mode="plain", style="space", suffix=3.5),
        "2": node("BasicsShowText", text=["1", 0]),
    }
    outcome, _ = run(executor, prompt)
    assert outcome.outputs["2"] == {"text": ["x3.5"]}


def test_one_instance_per_node_id_is_kept_across_prompts(executor):
    def prompt(word, node_id="1"):
        return {
            node_id: node("BasicsDescribe", word=word, times=1, mode="plain", style="space"),
            "9": node("PreviewAny", source=[node_id, 1]),
        }

    assert run(executor, prompt("a"))[0].outputs["9"] == {"text": ["1"]}
    assert run(executor, prompt("b"))[0].outputs["9"] == {"text": ["2"]}  # same node id: same instance
    assert run(executor, prompt("c", node_id="5"))[0].outputs["9"] == {"text": ["1"]}  # new id: new instance


@pytest.mark.parametrize(
    ("inputs", "error_type"),
    [
        ({"times": 9}, "value_bigger_than_max"),
        ({"times": 0}, "value_smaller_than_min"),
        ({"mode": "quiet"}, "value_not_in_list"),
        ({"style": "tabs"}, "value_not_in_list"),
        ({"times": "many"}, "invalid_input_type"),
    ],
)
def test_declared_limits_are_validated(executor, inputs, error_type):
    values = {"word": "a", "times": 1, "mode": "plain", "style": "space", **inputs}
    prompt = {"1": node("BasicsDescribe", **values), "2": node("BasicsShowText", text=["1", 0])}
    graph, report = executor.validate(prompt)
    assert graph is None
    errors = report.comfy_json()["node_errors"]["1"]["errors"]
    assert [e["type"] for e in errors] == [error_type]
    assert errors[0]["extra_info"]["input_name"] == next(iter(inputs))
