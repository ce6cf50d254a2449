"""Unknown node types, legacy group nodes and malformed workflows give errors that say what to do."""

from __future__ import annotations

import pytest

from graphflow.workflow import UnknownNodeTypeError, WorkflowError, editor_to_api


def test_every_unknown_node_is_listed(golden, object_info):
    workflow, _ = golden("txt2img")
    workflow["nodes"] += [
        {"id": 20, "type": "UltimateSDUpscale", "mode": 0, "title": "Upscale x2"},
        {"id": 21, "type": "FaceDetailer", "mode": 0},
        {"id": 22, "type": "UltimateSDUpscale", "mode": 0},
    ]
    with pytest.raises(UnknownNodeTypeError) as caught:
        editor_to_api(workflow, object_info)
    error = caught.value
    assert isinstance(error, WorkflowError) and isinstance(error, ValueError)
    assert [(m.node_id, m.type, m.title) for m in error.missing] == [
        ("20", "UltimateSDUpscale", "Upscale x2"),
        ("21", "FaceDetailer", ""),
        ("22", "UltimateSDUpscale", ""),
    ]
    message = str(error)
    assert "2 node types" in message and "'FaceDetailer'" in message and "'Upscale x2'" in message
    assert "Install the custom-node pack" in message and "remove or bypass" in message


def test_unknown_node_inside_a_subgraph_has_its_path_id(golden, object_info):
    workflow, _ = golden("subgraphs")
    inner = workflow["definitions"]["subgraphs"][1]["nodes"][0]
    inner["type"] = "KSamplerEfficient"
    with pytest.raises(UnknownNodeTypeError) as caught:
        editor_to_api(workflow, object_info)
    assert [(m.node_id, m.type) for m in caught.value.missing] == [("10:5:3", "KSamplerEfficient")]


def test_muted_or_bypassed_unknown_nodes_are_fine(object_info):
    workflow = {
        "version": 0.4,
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
                "type": "SomeMissingFilter",
                "mode": 4,
                "inputs": [{"name": "image", "type": "IMAGE", "link": 1}],
                "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [2]}],
            },
            {
                "id": 3,
                "type": "PreviewImage",
                "mode": 0,
                "inputs": [{"name": "images", "type": "IMAGE", "link": 2}],
            },
            {"id": 4, "type": "AnotherMissingNode", "mode": 2},
        ],
    }
    prompt = editor_to_api(workflow, object_info).prompt
    assert prompt["3"]["inputs"] == {"images": ["1", 0]}
    assert set(prompt) == {"1", "3"}


def test_legacy_group_nodes_are_refused_clearly(object_info):
    workflow = {
        "version": 0.4,
        "links": [],
        "nodes": [{"id": 7, "type": "workflow>Upscaler", "mode": 0}],
        "extra": {"groupNodes": {"Upscaler": {"nodes": [], "links": []}}},
    }
    with pytest.raises(WorkflowError, match="legacy group nodes") as caught:
        editor_to_api(workflow, object_info)
    assert "node 7" in str(caught.value) and "subgraph" in str(caught.value)
    assert not isinstance(caught.value, UnknownNodeTypeError)


@pytest.mark.parametrize(
    ("workflow", "message"),
    [
        ({"nodes": [], "links": [], "version": 2}, "unknown workflow schema version 2"),
        ({"nodes": {}, "links": []}, "'nodes' must be a list"),
        ({"nodes": [{"id": 1}], "links": []}, "node #0"),
        (
            {"nodes": [{"id": 1, "type": "ImageInvert"}, {"id": "1", "type": "ImageInvert"}], "links": []},
            "share the id 1",
        ),
        ({"nodes": [], "links": [[1, 2, 0]]}, "fewer than 5 fields"),
    ],
)
def test_malformed_workflows(object_info, workflow, message):
    with pytest.raises(WorkflowError, match=message):
        editor_to_api(workflow, object_info)


def test_a_subgraph_that_contains_itself_is_refused(object_info):
    definition = {
        "id": "loop",
        "name": "Loop",
        "inputs": [],
        "outputs": [],
        "links": [],
        "nodes": [{"id": 1, "type": "loop", "mode": 0}],
    }
    workflow = {
        "version": 0.4,
        "links": [],
        "nodes": [{"id": 1, "type": "loop", "mode": 0}],
        "definitions": {"subgraphs": [definition]},
    }
    with pytest.raises(WorkflowError, match="contains an instance of itself"):
        editor_to_api(workflow, object_info)
