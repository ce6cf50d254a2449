"""Link resolution details: primitives, reroutes, mutes, bypasses, named wires, loops, broken links."""

from __future__ import annotations

import pytest

from graphflow.workflow import WorkflowError, editor_to_api


def node(node_id, node_type, inputs=(), outputs=(), mode=0, **extra):
    return {
        "id": node_id,
        "type": node_type,
        "mode": mode,
        "inputs": [
            {"name": name, "type": type_, "link": link, **({"widget": {"name": name}} if widget else {})}
            for name, type_, link, widget in inputs
        ],
        "outputs": [{"name": t, "type": t, "links": list(links)} for t, links in outputs],
        **extra,
    }


def workflow(nodes, links):
    return {"nodes": nodes, "links": links, "version": 0.4}


def test_muted_origin_of_a_converted_widget_keeps_the_widget_value(object_info):
    # Front end 1.58 resolves a muted origin to nothing, so the widget's own value is sent.
    wf = workflow(
        [
            node(1, "PrimitiveInt", outputs=[("INT", [1])], mode=2, widgets_values=[5, "fixed"]),
            node(
                2,
                "EmptyLatentImage",
                inputs=[("width", "INT", 1, True)],
                outputs=[("LATENT", [])],
                widgets_values=[320, 256, 1],
            ),
        ],
        [[1, 1, 0, 2, 0, "INT"]],
    )
    assert editor_to_api(wf, object_info).prompt["2"]["inputs"] == {
        "width": 320,
        "height": 256,
        "batch_size": 1,
    }


def test_primitive_array_value_is_wrapped(object_info):
    wf = workflow(
        [
            node(1, "PrimitiveNode", outputs=[("COMBO", [1])], widgets_values=[["red", "blue"]]),
            node(
                2,
                "TestLegacySeed",
                inputs=[("tags", "COMBO", 1, True)],
                outputs=[("INT", [])],
                widgets_values=[0, "fixed", "first", "fixed", ["green"], "x"],
            ),
        ],
        [[1, 1, 0, 2, 0, "COMBO"]],
    )
    assert editor_to_api(wf, object_info).prompt["2"]["inputs"]["tags"] == {"__value__": ["red", "blue"]}


def test_primitive_without_value_leaves_the_target_widget_alone(object_info):
    wf = workflow(
        [
            node(1, "PrimitiveNode", outputs=[("INT", [1])]),
            node(
                2,
                "EmptyLatentImage",
                inputs=[("height", "INT", 1, True)],
                outputs=[("LATENT", [])],
                widgets_values=[320, 256, 1],
            ),
        ],
        [[1, 1, 0, 2, 0, "INT"]],
    )
    assert editor_to_api(wf, object_info).prompt["2"]["inputs"]["height"] == 256


def test_bypass_to_wildcard_consumer_takes_the_same_index(object_info):
    wf = workflow(
        [
            node(
                1, "LoadImage", outputs=[("IMAGE", [1]), ("MASK", [2])], widgets_values=["cat.png", "image"]
            ),
            node(
                2,
                "TestImageOrMask",
                inputs=[("mask", "MASK", 2, False), ("pixels", "IMAGE,MASK", 1, False)],
                outputs=[("IMAGE,MASK", [3])],
                mode=4,
                widgets_values=[0.5],
            ),
            node(3, "PreviewAny", inputs=[("source", "*", 3, False)]),
        ],
        [[1, 1, 0, 2, 1, "IMAGE"], [2, 1, 1, 2, 0, "MASK"], [3, 2, 0, 3, 0, "*"]],
    )
    assert editor_to_api(wf, object_info).prompt["3"]["inputs"] == {"source": ["1", 1]}  # input 0: the MASK


def test_get_and_set_nodes_are_named_wires(object_info):
    wf = workflow(
        [
            node(
                1,
                "CheckpointLoaderSimple",
                outputs=[("MODEL", []), ("CLIP", [1]), ("VAE", [])],
                widgets_values=["sd15.safetensors"],
            ),
            node(
                2,
                "SetNode",
                inputs=[("CLIP", "CLIP", 1, False)],
                outputs=[("*", [])],
                widgets_values=["clip_main"],
            ),
            node(3, "GetNode", outputs=[("CLIP", [2])], widgets_values=["clip_main"]),
            node(
                4,
                "CLIPTextEncode",
                inputs=[("clip", "CLIP", 2, False)],
                outputs=[("CONDITIONING", [])],
                widgets_values=["hello"],
            ),
        ],
        [[1, 1, 1, 2, 0, "CLIP"], [2, 3, 0, 4, 0, "CLIP"]],
    )
    prompt = editor_to_api(wf, object_info).prompt
    assert set(prompt) == {"1", "4"}
    assert prompt["4"]["inputs"] == {"text": "hello", "clip": ["1", 1]}


def test_reroute_loop_is_reported(object_info):
    wf = workflow(
        [
            node(1, "Reroute", inputs=[("", "*", 2, False)], outputs=[("*", [1])]),
            node(2, "Reroute", inputs=[("", "*", 1, False)], outputs=[("*", [2, 3])]),
            node(3, "PreviewAny", inputs=[("source", "*", 3, False)]),
        ],
        [[1, 1, 0, 2, 0, "*"], [2, 2, 0, 1, 0, "*"], [3, 2, 0, 3, 0, "*"]],
    )
    with pytest.raises(WorkflowError, match="form a loop"):
        editor_to_api(wf, object_info)


def test_links_to_missing_nodes_or_links_are_warnings(object_info):
    wf = workflow(
        [
            node(1, "ImageInvert", inputs=[("image", "IMAGE", 7, False)], outputs=[("IMAGE", [])]),
            node(2, "ImageInvert", inputs=[("image", "IMAGE", 8, False)], outputs=[("IMAGE", [])]),
        ],
        [[8, 99, 0, 2, 0, "IMAGE"]],
    )
    result = editor_to_api(wf, object_info)
    assert result.prompt["1"]["inputs"] == {} and result.prompt["2"]["inputs"] == {}
    assert any("link 7" in w for w in result.warnings)
    assert any("node 99" in w for w in result.warnings)


def test_disconnected_nodes_are_still_sent(object_info):
    wf = workflow([node(1, "EmptyLatentImage", outputs=[("LATENT", [])], widgets_values=[64, 64, 1])], [])
    assert editor_to_api(wf, object_info).prompt["1"]["class_type"] == "EmptyLatentImage"


def test_title_wins_over_display_name(object_info):
    wf = workflow(
        [
            node(
                1,
                "EmptyLatentImage",
                outputs=[("LATENT", [])],
                widgets_values=[64, 64, 1],
                title="Canvas size",
            )
        ],
        [],
    )
    assert editor_to_api(wf, object_info).prompt["1"]["_meta"] == {"title": "Canvas size"}


def test_hidden_inputs_are_never_emitted(object_info):
    wf = workflow(
        [node(1, "SaveImage", inputs=[("images", "IMAGE", None, False)], widgets_values=["out"])], []
    )
    assert editor_to_api(wf, object_info).prompt["1"]["inputs"] == {"filename_prefix": "out"}


def test_bypass_prefers_an_exact_type_over_the_first_compatible_input(object_info):
    # Output 2 has no same-index input; 'pixels' (IMAGE,MASK) is compatible with MASK but 'mask' is exact.
    split = {
        "input": {"required": {"pixels": ["IMAGE,MASK"], "mask": ["MASK"]}},
        "input_order": {"required": ["pixels", "mask"]},
        "output": ["IMAGE", "INT", "MASK"],
        "output_name": ["IMAGE", "INT", "MASK"],
        "display_name": "Split",
    }
    defs = {
        **object_info,
        "TestSplit": split,
        "TestMaskUser": {
            "input": {"required": {"mask": ["MASK"]}},
            "output": ["MASK"],
            "display_name": "Mask user",
        },
    }
    wf = workflow(
        [
            node(
                1, "LoadImage", outputs=[("IMAGE", [1]), ("MASK", [2])], widgets_values=["cat.png", "image"]
            ),
            node(
                2,
                "TestSplit",
                inputs=[("pixels", "IMAGE,MASK", 1, False), ("mask", "MASK", 2, False)],
                outputs=[("IMAGE", []), ("INT", []), ("MASK", [3])],
                mode=4,
            ),
            node(3, "TestMaskUser", inputs=[("mask", "MASK", 3, False)], outputs=[("MASK", [])]),
        ],
        [[1, 1, 0, 2, 0, "IMAGE"], [2, 1, 1, 2, 1, "MASK"], [3, 2, 2, 3, 0, "MASK"]],
    )
    assert editor_to_api(wf, defs).prompt["3"]["inputs"] == {"mask": ["1", 1]}


def test_bypass_prefers_the_same_index(object_info):
    pair = {
        "input": {"required": {"a": ["IMAGE"], "b": ["IMAGE"]}},
        "input_order": {"required": ["a", "b"]},
        "output": ["IMAGE", "IMAGE"],
        "output_name": ["A", "B"],
        "display_name": "Pair",
    }
    wf = workflow(
        [
            node(1, "LoadImage", outputs=[("IMAGE", [1]), ("MASK", [])], widgets_values=["cat.png", "image"]),
            node(
                2,
                "LoadImage",
                outputs=[("IMAGE", [2]), ("MASK", [])],
                widgets_values=["example.png", "image"],
            ),
            node(
                3,
                "TestPair",
                inputs=[("a", "IMAGE", 1, False), ("b", "IMAGE", 2, False)],
                outputs=[("IMAGE", []), ("IMAGE", [3])],
                mode=4,
            ),
            node(4, "PreviewImage", inputs=[("images", "IMAGE", 3, False)]),
        ],
        [[1, 1, 0, 3, 0, "IMAGE"], [2, 2, 0, 3, 1, "IMAGE"], [3, 3, 1, 4, 0, "IMAGE"]],
    )
    assert editor_to_api(wf, {**object_info, "TestPair": pair}).prompt["4"]["inputs"] == {"images": ["2", 0]}


def test_linked_input_is_named_by_its_widget(object_info):
    # The saved entry's own name may differ (older files, renamed slots); the widget name is the input name.
    wf = workflow(
        [
            node(1, "PrimitiveInt", outputs=[("INT", [1])], widgets_values=[3, "fixed"]),
            {
                "id": 2,
                "type": "EmptyLatentImage",
                "mode": 0,
                "widgets_values": [64, 64, 1],
                "inputs": [
                    {"name": "batch_size_input", "type": "INT", "widget": {"name": "batch_size"}, "link": 1}
                ],
            },
        ],
        [[1, 1, 0, 2, 0, "INT"]],
    )
    assert editor_to_api(wf, object_info).prompt["2"]["inputs"] == {
        "width": 64,
        "height": 64,
        "batch_size": ["1", 0],
    }
