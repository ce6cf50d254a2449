"""Whole-graph validation: every error type, in ComfyUI's shape and as readable text."""

from __future__ import annotations

import pytest


def add(a=1, b=2, **links):
    return {"class_type": "TestAdd", "inputs": {"a": a, "b": b, **links}}


def show(source):
    return {"class_type": "TestShow", "inputs": {"value": source}}


def errors_of(report, node_id):
    return [e["type"] for e in report.comfy_json()["node_errors"][node_id]["errors"]]


def test_valid_prompt_has_no_errors(executor):
    graph, report = executor.validate({"1": add(), "2": show(["1", 0])})
    assert report.ok and graph is not None
    assert report.outputs == ["2"]
    assert report.comfy_json() == {"node_errors": {}}


def test_not_an_object(executor):
    graph, report = executor.validate(["not", "a", "prompt"])
    assert graph is None
    assert report.error.type == "invalid_prompt"


def test_missing_class_type(executor):
    _, report = executor.validate({"1": {"inputs": {}}})
    body = report.comfy_json()
    assert body["error"]["type"] == "invalid_prompt"
    assert body["error"]["message"] == "Cannot execute because a node is missing the class_type property."
    assert body["error"]["details"] == "Node ID '#1'"
    assert body["node_errors"] == {}


def test_unknown_class_lists_every_missing_node(executor):
    _, report = executor.validate(
        {"1": {"class_type": "NoSuchNode", "inputs": {}}, "2": {"class_type": "Other"}}
    )
    body = report.comfy_json()
    assert body["error"]["message"] == "Cannot execute because node NoSuchNode does not exist."
    assert body["error"]["details"] == "Node ID '#1'"
    missing = body["error"]["extra_info"]["missing_nodes"]
    assert {m["class_type"] for m in missing} == {"NoSuchNode", "Other"}
    assert "install the node pack" in "\n".join(report.text_lines())


def test_no_output_node(executor):
    _, report = executor.validate({"1": add()})
    assert report.error.type == "prompt_no_outputs"
    assert report.error.message == "Prompt has no outputs"
    assert "add an output node" in "\n".join(report.text_lines())


def test_missing_required_input_names_node_input_and_fix(executor):
    prompt = {
        "1": {"class_type": "TestAdd", "inputs": {"a": 1}, "_meta": {"title": "Adder"}},
        "2": show(["1", 0]),
    }
    graph, report = executor.validate(prompt)
    assert graph is None
    body = report.comfy_json()
    assert body["error"]["type"] == "prompt_outputs_failed_validation"
    error = body["node_errors"]["1"]["errors"][0]
    assert error["type"] == "required_input_missing"
    assert error["details"] == "b"
    assert error["extra_info"]["input_name"] == "b"
    assert body["node_errors"]["1"]["dependent_outputs"] == ["2"]
    assert body["node_errors"]["1"]["class_type"] == "TestAdd"
    text = "\n".join(report.text_lines())
    assert "node 1 (TestAdd \"Adder\"), input 'b'" in text
    assert "Fix: add a value for b (default 0)" in text


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (1001, "value_bigger_than_max"),
        (-1001, "value_smaller_than_min"),
        ("seven", "invalid_input_type"),
        (2.5, "invalid_input_type"),
    ],
)
def test_constant_values(executor, value, kind):
    _, report = executor.validate({"1": add(a=value), "2": show(["1", 0])})
    assert errors_of(report, "1") == [kind]
    error = report.comfy_json()["node_errors"]["1"]["errors"][0]
    assert error["extra_info"]["input_name"] == "a"
    if kind == "value_bigger_than_max":
        assert error["message"] == "Value 1001 bigger than max of 1000"
        assert "from -1000 to 1000" in error["extra_info"]["fix"]


def test_values_are_coerced(executor):
    graph, report = executor.validate({"1": add(a="5", b=2.0), "2": show(["1", 0])})
    assert report.ok
    assert graph.nodes["1"].constants == {"a": 5, "b": 2}


def test_booleans_are_parsed_strictly(executor):
    graph, report = executor.validate(
        {"1": {"class_type": "PrimitiveBoolean", "inputs": {"value": "false"}}, "2": show(["1", 0])}
    )
    assert report.ok and graph.nodes["1"].constants["value"] is False


def test_combo_value_not_in_list(executor):
    _, report = executor.validate(
        {"1": {"class_type": "TestChoose", "inputs": {"mode": "pink", "count": 1}}, "2": show(["1", 0])}
    )
    error = report.comfy_json()["node_errors"]["1"]["errors"][0]
    assert error["type"] == "value_not_in_list"
    assert error["details"] == "mode: 'pink' not in ['red', 'green', 'blue']"
    assert "choose one of: 'red', 'green', 'blue'" in "\n".join(report.text_lines())


def test_custom_validation_hook(executor):
    _, report = executor.validate(
        {"1": {"class_type": "TestChoose", "inputs": {"mode": "red", "count": 13}}, "2": show(["1", 0])}
    )
    error = report.comfy_json()["node_errors"]["1"]["errors"][0]
    assert error["type"] == "custom_validation_failed"
    assert error["details"] == "count - 13 is not allowed"


def test_link_with_integer_node_id(executor):
    _, report = executor.validate({"1": add(), "2": show([1, 0])})
    error = report.comfy_json()["node_errors"]["2"]["errors"][0]
    assert error["type"] == "bad_linked_input"
    assert '["1", 0]' in error["extra_info"]["fix"]


def test_dangling_link_is_a_typed_error_not_a_keyerror(executor):
    _, report = executor.validate({"1": add(), "2": show(["9", 0])})
    error = report.comfy_json()["node_errors"]["2"]["errors"][0]
    assert error["type"] == "missing_link_source"
    assert "node 9" in error["message"]
    assert error["extra_info"]["input_name"] == "value"


def test_link_to_missing_output_index(executor):
    _, report = executor.validate({"1": add(), "2": show(["1", 3])})
    error = report.comfy_json()["node_errors"]["2"]["errors"][0]
    assert error["type"] == "missing_link_output"
    assert "has 1 output(s)" in error["message"]


def test_socket_type_mismatch(executor):
    prompt = {
        "1": {"class_type": "PrimitiveString", "inputs": {"value": "x"}},
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": show(["2", 0]),
    }
    _, report = executor.validate(prompt)
    error = report.comfy_json()["node_errors"]["2"]["errors"][0]
    assert error["type"] == "return_type_mismatch"
    assert error["details"] == "image, received_type(STRING) mismatch input_type(IMAGE)"
    assert report.comfy_json()["node_errors"]["2"]["dependent_outputs"] == ["3"]


def test_widget_inputs_accept_links_of_their_type(executor):
    prompt = {
        "1": {"class_type": "PrimitiveInt", "inputs": {"value": 4}},
        "2": add(a=["1", 0]),
        "3": show(["2", 0]),
    }
    graph, report = executor.validate(prompt)
    assert report.ok and graph.nodes["2"].links == {"a": ("1", 0)}


def test_cycle_names_every_node_in_it(executor):
    prompt = {"1": add(a=["3", 0]), "2": add(a=["1", 0]), "3": add(a=["2", 0]), "4": show(["3", 0])}
    graph, report = executor.validate(prompt)
    assert graph is None
    body = report.comfy_json()
    for node_id in ("1", "2", "3"):
        error = body["node_errors"][node_id]["errors"][0]
        assert error["type"] == "dependency_cycle"
        assert error["extra_info"]["cycle"] == ["1", "2", "3"]
    assert body["node_errors"]["1"]["dependent_outputs"] == ["4"]
    assert "4" not in body["node_errors"]
    assert "dependency cycle" in body["node_errors"]["2"]["errors"][0]["message"]


def test_only_failing_outputs_are_dropped(executor):
    prompt = {"1": add(), "2": show(["1", 0]), "3": add(a=5000), "4": show(["3", 0])}
    graph, report = executor.validate(prompt)
    assert report.ok and graph is not None
    assert report.outputs == ["2"]
    assert report.comfy_json()["node_errors"]["3"]["dependent_outputs"] == ["4"]


def test_invalid_disconnected_nodes_are_warnings(executor):
    prompt = {"1": add(), "2": show(["1", 0]), "9": add(a=5000)}
    graph, report = executor.validate(prompt)
    assert report.ok and graph is not None
    assert "9" in report.warnings and not report.node_errors
    assert report.comfy_json()["node_warnings"]["9"]["errors"][0]["type"] == "value_bigger_than_max"
    assert any(
        line.startswith("warning: node 9 (TestAdd)") and "feeds no output" in line
        for line in report.text_lines()
    )


def test_partial_execution_targets(executor):
    prompt = {"1": add(), "2": show(["1", 0]), "3": show(["1", 0])}
    _, report = executor.validate(prompt, partial_targets=["3"])
    assert report.outputs == ["3"]
    _, report = executor.validate(prompt, partial_targets=[])
    assert report.error.type == "prompt_no_outputs"


def test_literal_lists_are_unwrapped_before_coercion(executor):
    prompt = {
        "1": add(),
        "2": show(["1", 0]),
        "3": {"class_type": "TestShow", "inputs": {"value": {"__value__": [1, 2]}}},
    }
    graph, report = executor.validate(prompt)
    assert report.ok
    assert graph.nodes["3"].constants == {}  # a socket input cannot take a literal list
    assert report.node_errors["3"].problems[0].type == "bad_linked_input"

    prompt["4"] = {"class_type": "PrimitiveInt", "inputs": {"value": {"__value__": [1]}}}
    _, report = executor.validate(prompt)
    assert report.warnings["4"].problems[0].type == "invalid_input_type"
