"""API prompt → editor workflow, checked by converting back and by the shape the front end loads."""

from __future__ import annotations

import pytest

from graphflow.workflow import UnknownNodeTypeError, WorkflowError, api_to_editor, editor_to_api


@pytest.mark.parametrize(
    "name", ["txt2img", "worked_example", "compressed_inputs", "mute_bypass", "widget_tables"]
)
def test_round_trip(name, golden, object_info):
    _, prompt = golden(name)
    workflow = api_to_editor(prompt, object_info)
    assert workflow["version"] == 0.4
    assert editor_to_api(workflow, object_info).prompt == prompt


def test_widgets_values_and_inputs(golden, object_info):
    _, prompt = golden("compressed_inputs")
    nodes = {n["id"]: n for n in api_to_editor(prompt, object_info)["nodes"]}
    sampler = nodes[3]
    # seed and steps are linked: converted widget inputs; their widget slots keep the defaults
    assert sampler["widgets_values"] == [0, "fixed", 20, 8, "euler", "normal", 1]
    assert [(i["name"], "widget" in i) for i in sampler["inputs"]] == [
        ("model", False),
        ("seed", True),
        ("steps", True),
        ("positive", False),
        ("negative", False),
        ("latent_image", False),
    ]
    assert nodes[20]["widgets_values"] == [99, "fixed"]


def test_links_are_schema_04_arrays(golden, object_info):
    _, prompt = golden("txt2img")
    workflow = api_to_editor(prompt, object_info)
    nodes = {n["id"]: n for n in workflow["nodes"]}
    assert workflow["last_link_id"] == len(workflow["links"]) == 9
    for link_id, origin, origin_slot, target, target_slot, link_type in workflow["links"]:
        assert nodes[target]["inputs"][target_slot]["link"] == link_id
        assert link_id in nodes[origin]["outputs"][origin_slot]["links"]
        assert link_type == nodes[origin]["outputs"][origin_slot]["type"]


def test_layout_follows_dependencies(golden, object_info):
    _, prompt = golden("txt2img")
    nodes = {n["id"]: n for n in api_to_editor(prompt, object_info)["nodes"]}
    x = {node_id: node["pos"][0] for node_id, node in nodes.items()}
    assert x[4] < x[6] < x[3] < x[8] < x[9]  # checkpoint → prompt → sampler → decode → save
    assert x[5] < x[3]
    same_column = [n for n in nodes.values() if n["pos"][0] == x[6]]
    tops = sorted(n["pos"][1] for n in same_column)
    assert all(b - a >= 40 for a, b in zip(tops, tops[1:], strict=False))  # stacked without overlap
    assert sorted(n["order"] for n in nodes.values()) == list(range(len(nodes)))


def test_titles_and_upload_values(object_info):
    prompt = {
        "12": {"class_type": "LoadImage", "inputs": {"image": "cat.png"}, "_meta": {"title": "Reference"}},
        "13": {"class_type": "ImageInvert", "inputs": {"image": ["12", 0]}},
    }
    nodes = {n["id"]: n for n in api_to_editor(prompt, object_info)["nodes"]}
    assert nodes[12]["title"] == "Reference" and nodes[12]["widgets_values"] == ["cat.png", "image"]
    assert nodes[13]["title"] == "Invert Image"


def test_path_ids_stay_strings(object_info):
    prompt = {
        "10:5": {"class_type": "ImageInvert", "inputs": {}},
        "2": {"class_type": "PreviewImage", "inputs": {"images": ["10:5", 0]}},
    }
    workflow = api_to_editor(prompt, object_info)
    assert [n["id"] for n in workflow["nodes"]] == ["10:5", 2]
    assert editor_to_api(workflow, object_info).prompt == {
        "10:5": {"class_type": "ImageInvert", "inputs": {}, "_meta": {"title": "Invert Image"}},
        "2": {
            "class_type": "PreviewImage",
            "inputs": {"images": ["10:5", 0]},
            "_meta": {"title": "Preview Image"},
        },
    }


def test_errors(object_info):
    with pytest.raises(UnknownNodeTypeError, match="Missing"):
        api_to_editor({"1": {"class_type": "Missing", "inputs": {}}}, object_info)
    with pytest.raises(WorkflowError, match="class_type"):
        api_to_editor({"1": {"inputs": {}}}, object_info)
