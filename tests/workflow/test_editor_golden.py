"""Golden tests: hand-written editor workflows and the API prompts the front end would queue for them."""

from __future__ import annotations

import copy

import pytest

from graphflow.workflow import editor_to_api

GOLDEN_CASES = [
    "worked_example",  # workflow-formats.md §4.8: bypass + primitive + converted widget
    "txt2img",  # a full default txt2img workflow as the front end saves it
    "widget_tables",  # every row of the §4.5 widget table
    "primitive_reroute",  # PrimitiveNode (direct, through a Reroute, unconnected), Reroute chains, Notes
    "mute_bypass",  # muted origins, the three bypass choices, removal, a bypass chain
    "compressed_inputs",  # target_slot indexes the compressed saved inputs array
    "schema1",  # schema 1: link objects, state, reroutes, widgets_values_named
    "subgraphs",  # nested subgraphs, promoted values, bypassed / muted / unconnected instances
]


@pytest.mark.parametrize("name", GOLDEN_CASES)
def test_golden_conversion(name, golden, object_info):
    workflow, expected = golden(name)
    result = editor_to_api(workflow, object_info)
    assert result.prompt == expected


@pytest.mark.parametrize("name", GOLDEN_CASES)
def test_conversion_leaves_the_workflow_untouched(name, golden, object_info):
    workflow, _ = golden(name)
    before = copy.deepcopy(workflow)
    editor_to_api(workflow, object_info)
    assert workflow == before


def test_worked_example_details(golden, object_info):
    workflow, _ = golden("worked_example")
    prompt = editor_to_api(workflow, object_info).prompt
    assert "9" not in prompt and "8" not in prompt  # bypassed LoRA and PrimitiveNode are not sent
    sampler = prompt["3"]["inputs"]
    assert sampler["model"] == ["1", 0]  # rewired through the bypassed LoRA (same slot, MODEL)
    assert sampler["seed"] == 42  # the primitive's literal overrides the widget value 0
    assert "randomize" not in sampler.values()  # the control widget is never sent


def test_links_use_string_ids(golden, object_info):
    workflow, _ = golden("schema1")  # node "4" is a string here, linked from ints elsewhere
    prompt = editor_to_api(workflow, object_info).prompt
    links = [v for node in prompt.values() for v in node["inputs"].values() if isinstance(v, list)]
    assert links and all(isinstance(v[0], str) and isinstance(v[1], int) for v in links)


def test_bypass_without_fitting_input_warns(golden, object_info):
    workflow, _ = golden("mute_bypass")
    warnings = editor_to_api(workflow, object_info).warnings
    assert any("node 70" in w and "bypassed" in w and "LATENT" in w for w in warnings)


def test_subgraph_outputs_flow_from_nested_inner_nodes(golden, object_info):
    workflow, _ = golden("subgraphs")
    prompt = editor_to_api(workflow, object_info).prompt
    assert prompt["30"]["inputs"]["samples"] == ["10:5:3", 0]
    # instances never appear; the contents of the bypassed and the muted instance do not run
    assert not {"10", "10:5", "41", "41:1", "43", "43:1"} & set(prompt)
