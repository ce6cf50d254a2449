"""Declaring nodes: types from annotations, object_info in ComfyUI's format, declaration errors."""

from __future__ import annotations

from typing import Literal

import pytest

from graphflow import IMAGE, Image, ImageOutput, Input, Node, NodeContext, Output, Outputs, node
from graphflow.registry import NodeRegistry, PackStatus, RegistrationError


def test_empty_image_object_info_matches_comfyui(runtime):
    info = runtime.registry.object_info(runtime)["EmptyImage"]
    assert info["input"]["required"]["color"] == [
        "INT",
        {"default": 0, "min": 0, "max": 16777215, "step": 1, "display": "color"},
    ]
    assert info["input_order"] == {"required": ["width", "height", "batch_size", "color"]}
    assert (
        info["output"] == ["IMAGE"] and info["output_name"] == ["IMAGE"] and info["output_is_list"] == [False]
    )
    assert info["python_module"] == "nodes" and info["category"] == "image" and info["output_node"] is False
    for key in ("name", "display_name", "description", "category", "output_node", "python_module"):
        assert key in info  # the front end's schema requires these six


def test_preview_any_is_an_output_node_with_a_wildcard_socket(runtime):
    info = runtime.registry.object_info(runtime)["PreviewAny"]
    assert info["input"]["required"]["source"] == ["*"]
    assert info["output_node"] is True and info["output"] == []


def test_types_come_from_annotations():
    class PairOutput(Outputs):
        first: Image = Output(name="FIRST", tooltip="the first image")
        count: int = Output()

    @node("TestDeclared", category="testing/declared", version="3")
    class Declared(Node):
        """Shows how declarations map.

        Only this first paragraph becomes the description.
        """

        image: Image = Input(tooltip="pixels")
        mode: Literal["a", "b"] = Input("a")
        choice: str = Input(options=["x", "y"])
        text: str = Input("", multiline=True, ui={"dynamicPrompts": True})
        strength: float = Input(1.0, min=0.0, max=2.0, step=0.01)
        flag: bool = Input(True, optional=True)
        union: object = Input(type="IMAGE,MASK", optional=True, lazy=True)

        def run(self, ctx: NodeContext) -> PairOutput:
            return PairOutput(self.image, 2)

    spec = Declared.spec
    info = spec.object_info()
    assert spec.version == "3"
    assert info["description"] == "Shows how declarations map."
    assert info["input"]["required"] == {
        "image": ["IMAGE", {"tooltip": "pixels"}],
        "mode": [["a", "b"], {"default": "a"}],
        "choice": [["x", "y"]],
        "text": ["STRING", {"default": "", "multiline": True, "dynamicPrompts": True}],
        "strength": ["FLOAT", {"default": 1.0, "min": 0.0, "max": 2.0, "step": 0.01}],
    }
    assert info["input"]["optional"] == {
        "flag": ["BOOLEAN", {"default": True}],
        "union": ["IMAGE,MASK", {"lazy": True}],
    }
    assert info["output"] == ["IMAGE", "INT"] and info["output_name"] == ["FIRST", "INT"]
    assert info["output_tooltips"] == ["the first image", None]


def test_run_must_declare_its_output_schema():
    with pytest.raises(TypeError, match="must be annotated to return an Outputs subclass"):

        @node("TestNoSchema")
        class NoSchema(Node):
            def run(self, ctx: NodeContext) -> int:
                return 1


def test_untyped_input_is_a_declaration_error():
    with pytest.raises(TypeError, match="cannot tell its type"):

        @node("TestUntyped")
        class Untyped(Node):
            thing: list = Input()

            def run(self, ctx: NodeContext) -> ImageOutput:
                return ImageOutput(None)


def test_outputs_checks_its_fields():
    with pytest.raises(TypeError, match="missing image"):
        ImageOutput()
    with pytest.raises(TypeError, match="has no output 'other'"):
        ImageOutput(other=1)
    assert ImageOutput(image=5).as_result().outputs == (5,)


def test_registry_refuses_non_nodes_and_protects_builtins(runtime):
    registry = NodeRegistry()
    with pytest.raises(RegistrationError):
        registry.register(object)

    @node("EmptyImage")
    class Impostor(Node):
        image: Image = Input()

        def run(self, ctx: NodeContext) -> ImageOutput:
            return ImageOutput(self.image)

    pack = runtime.registry.add_pack(PackStatus("impostor", "test", "native"))
    assert runtime.registry.register(Impostor, pack=pack) is None
    assert runtime.registry.get("EmptyImage").python_module == "nodes"
    assert pack.clashes == ["EmptyImage: a built-in node type; packs cannot replace it"]
    assert IMAGE == "IMAGE"
