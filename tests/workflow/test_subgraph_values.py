"""Promoted widget values of subgraph instances, in both the linked-input and the proxyWidgets forms."""

from __future__ import annotations

from graphflow.workflow import editor_to_api


def test_instance_without_values_keeps_inner_widget_values(golden, object_info):
    workflow, _ = golden("subgraphs")
    outer = next(n for n in workflow["nodes"] if n["id"] == 10)
    del outer["widgets_values"]
    inner_instance = workflow["definitions"]["subgraphs"][0]["nodes"][3]
    del inner_instance["widgets_values"]
    sampler = editor_to_api(workflow, object_info).prompt["10:5:3"]["inputs"]
    # seed/steps inputs of the outer instance are unlinked and hold no value: the inner widgets' own values
    assert (sampler["seed"], sampler["steps"], sampler["cfg"]) == (1, 20, 6.5)


def test_two_instances_of_one_definition_hold_their_own_values(golden, object_info):
    workflow, _ = golden("subgraphs")
    second = {**next(n for n in workflow["nodes"] if n["id"] == 10), "id": 11, "widgets_values": [5, 12]}
    second["outputs"] = [{"name": "LATENT", "type": "LATENT", "links": []}]
    second["inputs"] = [
        {"name": "model", "type": "MODEL", "link": None},
        {"name": "clip", "type": "CLIP", "link": None},
    ]
    workflow["nodes"].append(second)
    prompt = editor_to_api(workflow, object_info).prompt
    assert (prompt["10:5:3"]["inputs"]["seed"], prompt["10:5:3"]["inputs"]["steps"]) == (777, 30)
    assert (prompt["11:5:3"]["inputs"]["seed"], prompt["11:5:3"]["inputs"]["steps"]) == (5, 12)
    assert "model" not in prompt["11:5:3"]["inputs"]  # the second instance's model input is unconnected


def test_proxy_widget_values_override_inner_widgets(object_info):
    definition = {
        "id": "sub-1",
        "name": "Latent",
        "inputs": [],
        "outputs": [{"name": "LATENT", "type": "LATENT", "linkIds": [1]}],
        "nodes": [
            {
                "id": 4,
                "type": "EmptyLatentImage",
                "mode": 0,
                "widgets_values": [512, 512, 1],
                "outputs": [{"name": "LATENT", "type": "LATENT", "links": [1]}],
            }
        ],
        "links": [
            {"id": 1, "origin_id": 4, "origin_slot": 0, "target_id": -20, "target_slot": 0, "type": "LATENT"}
        ],
    }
    workflow = {
        "version": 0.4,
        "definitions": {"subgraphs": [definition]},
        "links": [],
        "nodes": [
            {
                "id": 9,
                "type": "sub-1",
                "mode": 0,
                "outputs": [{"name": "LATENT", "type": "LATENT", "links": []}],
                "properties": {"proxyWidgets": [["4", "width"], ["4", "height"]]},
                "widgets_values": [1024, 640],
            },
        ],
    }
    prompt = editor_to_api(workflow, object_info).prompt
    assert prompt == {
        "9:4": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": 1024, "height": 640, "batch_size": 1},
            "_meta": {"title": "Empty Latent Image"},
        }
    }


def test_subgraph_input_wired_straight_to_an_output(object_info):
    definition = {
        "id": "pass",
        "name": "Pass",
        "inputs": [{"name": "image", "type": "IMAGE", "linkIds": [1]}],
        "outputs": [{"name": "IMAGE", "type": "IMAGE", "linkIds": [1]}],
        "nodes": [],
        "links": [
            {"id": 1, "origin_id": -10, "origin_slot": 0, "target_id": -20, "target_slot": 0, "type": "IMAGE"}
        ],
    }
    workflow = {
        "version": 0.4,
        "definitions": {"subgraphs": [definition]},
        "links": [[1, 1, 0, 2, 0, "IMAGE"], [2, 2, 0, 3, 0, "IMAGE"]],
        "nodes": [
            {
                "id": 1,
                "type": "LoadImage",
                "mode": 0,
                "widgets_values": ["cat.png", "image"],
                "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [1]}],
            },
            {
                "id": 2,
                "type": "pass",
                "mode": 0,
                "inputs": [{"name": "image", "type": "IMAGE", "link": 1}],
                "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [2]}],
            },
            {
                "id": 3,
                "type": "PreviewImage",
                "mode": 0,
                "inputs": [{"name": "images", "type": "IMAGE", "link": 2}],
            },
        ],
    }
    assert editor_to_api(workflow, object_info).prompt["3"]["inputs"] == {"images": ["1", 0]}


def test_compressed_instance_inputs_are_matched_by_name(object_info):
    # Definition inputs: [batch (a promoted INT, unlinked and so dropped from the saved inputs), image].
    definition = {
        "id": "sub-2",
        "name": "Invert",
        "inputs": [
            {"name": "batch", "type": "INT", "linkIds": [1]},
            {"name": "image", "type": "IMAGE", "linkIds": [2]},
        ],
        "outputs": [{"name": "IMAGE", "type": "IMAGE", "linkIds": [3]}],
        "nodes": [
            {
                "id": 1,
                "type": "EmptyImage",
                "mode": 0,
                "widgets_values": [8, 8, 1, 0],
                "inputs": [
                    {"name": "batch_size", "type": "INT", "widget": {"name": "batch_size"}, "link": 1}
                ],
                "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": []}],
            },
            {
                "id": 2,
                "type": "ImageInvert",
                "mode": 0,
                "inputs": [{"name": "image", "type": "IMAGE", "link": 2}],
                "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [3]}],
            },
        ],
        "links": [
            {"id": 1, "origin_id": -10, "origin_slot": 0, "target_id": 1, "target_slot": 0, "type": "INT"},
            {"id": 2, "origin_id": -10, "origin_slot": 1, "target_id": 2, "target_slot": 0, "type": "IMAGE"},
            {"id": 3, "origin_id": 2, "origin_slot": 0, "target_id": -20, "target_slot": 0, "type": "IMAGE"},
        ],
    }
    workflow = {
        "version": 0.4,
        "definitions": {"subgraphs": [definition]},
        "links": [[1, 1, 0, 2, 0, "IMAGE"]],
        "nodes": [
            {
                "id": 1,
                "type": "LoadImage",
                "mode": 0,
                "widgets_values": ["cat.png", "image"],
                "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [1]}],
            },
            {
                "id": 2,
                "type": "sub-2",
                "mode": 0,
                "widgets_values": [4],
                "inputs": [{"name": "image", "type": "IMAGE", "link": 1}],
                "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": []}],
            },
        ],
    }
    prompt = editor_to_api(workflow, object_info).prompt
    assert prompt["2:2"]["inputs"] == {"image": ["1", 0]}
    assert prompt["2:1"]["inputs"]["batch_size"] == 4  # the instance's promoted value
