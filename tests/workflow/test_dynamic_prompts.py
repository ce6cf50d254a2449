"""Dynamic prompts: comment stripping and {a|b} choices, only on dynamicPrompts STRING widgets, only on request."""

from __future__ import annotations

import random

import pytest

from graphflow.workflow import editor_to_api, resolve_dynamic_prompt
from graphflow.workflow.dynamic_prompts import strip_comments


def test_comments_are_stripped():
    assert (
        strip_comments("a cat /* not\nthis */ on a mat // and not this\nnext line")
        == "a cat  on a mat \nnext line"
    )


def test_every_option_can_be_chosen():
    rng = random.Random(0)
    seen = {resolve_dynamic_prompt("a {red|green|blue} car", rng) for _ in range(200)}
    assert seen == {"a red car", "a green car", "a blue car"}


def test_nested_and_empty_options():
    rng = random.Random(1)
    seen = {resolve_dynamic_prompt("{x|{y|z}|}", rng) for _ in range(300)}
    assert seen == {"x", "y", "z", ""}


def test_same_seed_same_text():
    template = "{a|b|c} {d|e|f} {g|h|i}"
    assert resolve_dynamic_prompt(template, random.Random(42)) == resolve_dynamic_prompt(
        template, random.Random(42)
    )


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (r"literal \{braces\} and \| bar", "literal {braces} and | bar"),
        ("no choices here", "no choices here"),
        ("stray } brace", "stray } brace"),
        ("{only}", "only"),
        ("unclosed {a", "unclosed a"),
    ],
)
def test_grammar_edge_cases(template, expected):
    assert resolve_dynamic_prompt(template, random.Random(3)) == expected


def _prompt_workflow(text: str, prefix: str) -> dict:
    return {
        "version": 0.4,
        "links": [[1, 3, 0, 2, 0, "STRING"]],
        "nodes": [
            {
                "id": 1,
                "type": "CLIPTextEncode",
                "mode": 0,
                "inputs": [{"name": "clip", "type": "CLIP", "link": None}],
                "widgets_values": [text],
            },
            {
                "id": 2,
                "type": "CLIPTextEncode",
                "mode": 0,
                "inputs": [
                    {"name": "text", "type": "STRING", "widget": {"name": "text"}, "link": 1},
                    {"name": "clip", "type": "CLIP", "link": None},
                ],
                "widgets_values": ["ignored"],
            },
            {
                "id": 3,
                "type": "PrimitiveNode",
                "mode": 0,
                "outputs": [{"name": "STRING", "type": "STRING", "widget": {"name": "text"}, "links": [1]}],
                "widgets_values": ["{sunny|sunny} day // from a primitive"],
            },
            {
                "id": 4,
                "type": "SaveImage",
                "mode": 0,
                "inputs": [{"name": "images", "type": "IMAGE", "link": None}],
                "widgets_values": [prefix],
            },
        ],
    }


def test_resolved_only_when_asked(object_info):
    workflow = _prompt_workflow("a {cat|cat} // comment", "{x|y}")
    plain = editor_to_api(workflow, object_info).prompt
    assert plain["1"]["inputs"]["text"] == "a {cat|cat} // comment"

    resolved = editor_to_api(workflow, object_info, dynamic_prompts=random.Random(7)).prompt
    assert resolved["1"]["inputs"]["text"] == "a cat "
    assert resolved["2"]["inputs"]["text"] == "sunny day "  # a primitive's value gets the widget's processing
    assert resolved["4"]["inputs"]["filename_prefix"] == "{x|y}"  # not a dynamicPrompts widget
