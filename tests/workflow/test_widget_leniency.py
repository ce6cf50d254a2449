"""Positional widgets_values → named inputs, including every leniency rule of workflow-formats.md §4.5."""

from __future__ import annotations

from typing import Any

import pytest

from graphflow.workflow import editor_to_api
from graphflow.workflow.widgets import build_widget_slots, input_specs, widget_default


def convert_one(object_info: dict, node_type: str, **node_fields: Any):
    """Convert a workflow holding one unconnected node; return (its API inputs, the warnings)."""
    node = {"id": 1, "type": node_type, "mode": 0, **node_fields}
    result = editor_to_api({"nodes": [node], "links": [], "version": 0.4}, object_info)
    return result.prompt["1"]["inputs"], result.warnings


def test_slot_list_of_ksampler(object_info):
    slots = [(s.kind, s.spec.name) for s in build_widget_slots(object_info["KSampler"])]
    assert slots == [
        ("value", "seed"),
        ("control", "seed"),
        ("value", "steps"),
        ("value", "cfg"),
        ("value", "sampler_name"),
        ("value", "scheduler"),
        ("value", "denoise"),
    ]


def test_slot_list_skips_force_inputs_and_keeps_default_inputs(object_info):
    slots = [(s.kind, s.spec.name) for s in build_widget_slots(object_info["TestIntMath"])]
    assert slots == [("value", "b"), ("value", "operation"), ("value", "bias")]


def test_slot_list_upload_follows_required_widgets(object_info):
    slots = [(s.kind, s.spec.name) for s in build_widget_slots(object_info["LoadImageMask"])]
    assert slots == [("value", "image"), ("value", "channel"), ("upload", "image")]


def test_input_order_decides_slot_order(object_info):
    definition = dict(object_info["EmptyLatentImage"])
    definition["input_order"] = {"required": ["batch_size", "height", "width"]}
    inputs, _ = convert_one(
        {"EmptyLatentImage": definition}, "EmptyLatentImage", widgets_values=[4, 640, 320]
    )
    assert inputs == {"batch_size": 4, "height": 640, "width": 320}


def test_missing_input_order_uses_key_order(object_info):
    definition = {k: v for k, v in object_info["EmptyLatentImage"].items() if k != "input_order"}
    inputs, _ = convert_one(
        {"EmptyLatentImage": definition}, "EmptyLatentImage", widgets_values=[320, 640, 4]
    )
    assert inputs == {"width": 320, "height": 640, "batch_size": 4}


def test_named_values_are_preferred_and_control_keys_ignored(object_info):
    inputs, warnings = convert_one(
        object_info,
        "KSampler",
        widgets_values=[1, "randomize", 2, 3, "euler", "normal", 0.5],
        widgets_values_named={
            "seed": 11,
            "control_after_generate": "fixed",
            "steps": 12,
            "cfg": 4.5,
            "sampler_name": "ddim",
            "scheduler": "karras",
            "denoise": 0.75,
        },
    )
    assert inputs == {
        "seed": 11,
        "steps": 12,
        "cfg": 4.5,
        "sampler_name": "ddim",
        "scheduler": "karras",
        "denoise": 0.75,
    }
    assert warnings == []


def test_object_form_widgets_values(object_info):
    inputs, _ = convert_one(object_info, "LoadImage", widgets_values={"image": "cat.png", "upload": "image"})
    assert inputs == {"image": "cat.png"}


def test_old_files_with_force_input_values(object_info):
    # An old front end saved a value for the forceInput 'a' too: 3 slots + 1 forceInput = 4 values.
    inputs, _ = convert_one(object_info, "TestIntMath", widgets_values=[5, 2, "multiply", 3])
    assert inputs == {"b": 2, "operation": "multiply", "bias": 3}


def test_force_input_absent_in_current_files(object_info):
    inputs, _ = convert_one(object_info, "TestIntMath", widgets_values=[2, "multiply", 3])
    assert inputs == {"b": 2, "operation": "multiply", "bias": 3}


@pytest.mark.parametrize(
    "values",
    [
        [5, "fixed", "second", "increment", ["red", "blue"], "lbl"],  # with the legacy seed control slot
        [5, "second", "increment", ["red", "blue"], "lbl"],  # a front end without the legacy rule
    ],
)
def test_legacy_seed_control_slot_present_or_not(object_info, values):
    inputs, _ = convert_one(object_info, "TestLegacySeed", widgets_values=values)
    assert inputs == {"seed": 5, "mode": "second", "tags": {"__value__": ["red", "blue"]}, "label": "lbl"}


def test_control_value_true_is_accepted(object_info):
    inputs, _ = convert_one(object_info, "KSampler", widgets_values=[9, True, 30, 7, "euler", "normal", 1])
    assert inputs["seed"] == 9 and inputs["steps"] == 30 and inputs["cfg"] == 7


def test_control_slot_missing_entirely(object_info):
    # No exact layout fits 6 values; a value is taken as a control only if it looks like one.
    inputs, _ = convert_one(object_info, "KSampler", widgets_values=[9, 30, 7, "euler", "normal", 1])
    assert inputs == {
        "seed": 9,
        "steps": 30,
        "cfg": 7,
        "sampler_name": "euler",
        "scheduler": "normal",
        "denoise": 1,
    }


def test_extra_trailing_values_are_ignored(object_info):
    inputs, warnings = convert_one(
        object_info, "EmptyLatentImage", widgets_values=[640, 480, 2, "unknown", None]
    )
    assert inputs == {"width": 640, "height": 480, "batch_size": 2}
    assert warnings == []


def test_missing_values_fall_back_to_defaults_with_a_warning(object_info):
    inputs, warnings = convert_one(object_info, "EmptyLatentImage", widgets_values=[640])
    assert inputs == {"width": 640, "height": 512, "batch_size": 1}
    assert any("node 1" in w and "'height'" in w and "512" in w for w in warnings)


def test_null_values_fall_back_to_defaults(object_info):
    inputs, warnings = convert_one(
        object_info, "KSampler", widgets_values=[None, "fixed", 20, 8, "euler", "normal", 1]
    )
    assert inputs["seed"] == 0
    assert any("'seed'" in w and "null" in w for w in warnings)


def test_no_widgets_values_at_all_gives_defaults(object_info):
    inputs, warnings = convert_one(object_info, "KSampler")
    assert inputs == {
        "seed": 0,
        "steps": 20,
        "cfg": 8.0,
        "sampler_name": "euler",
        "scheduler": "simple",
        "denoise": 1.0,
    }
    assert any("no saved widget values" in w for w in warnings)


def test_load_image_saved_without_upload_value(object_info):
    inputs, _ = convert_one(object_info, "LoadImage", widgets_values=["cat.png"])
    assert inputs == {"image": "cat.png"}


def test_upload_value_directly_after_the_combo(object_info):
    # Some front ends put the upload button right after its combo rather than after all widgets.
    inputs, _ = convert_one(object_info, "LoadImageMask", widgets_values=["cat.png", "image", "green"])
    assert inputs == {"image": "cat.png", "channel": "green"}


def test_array_values_are_wrapped(object_info):
    inputs, _ = convert_one(
        object_info, "TestLegacySeed", widgets_values=[1, "fixed", "first", "fixed", ["green"], "x"]
    )
    assert inputs["tags"] == {"__value__": ["green"]}


def test_widget_defaults(object_info):
    specs = {s.name: s for s in input_specs(object_info["KSampler"])}
    assert widget_default(specs["sampler_name"]) == "euler"  # combo without default: first choice
    assert widget_default(specs["cfg"]) == 8.0
    specs = {s.name: s for s in input_specs(object_info["TestLegacySeed"])}
    assert widget_default(specs["mode"]) == "first"  # V3 COMBO options
    assert widget_default(specs["tags"]) == ["red"]


def test_unusual_input_types_are_sockets(object_info):
    odd = {
        "input": {"required": {"thing": [{"kind": "custom"}], "n": ["INT", {"default": 3}]}},
        "output": [],
        "display_name": "Odd",
    }
    inputs, _ = convert_one({"Odd": odd}, "Odd", widgets_values=[5])
    assert inputs == {"n": 5}
