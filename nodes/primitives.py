"""Primitive value nodes (ComfyUI's ``comfy_extras.nodes_primitive``): a constant as an output."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphflow.node import Input, Node, node
from graphflow.outputs import BooleanOutput, FloatOutput, IntOutput, StringOutput

if TYPE_CHECKING:
    from graphflow.context import NodeContext

INT_LIMIT = 9223372036854775807  # ComfyUI's sys.maxsize bound for PrimitiveInt
_MODULE = "comfy_extras.nodes_primitive"
_CATEGORY = "utils/primitive"


@node("PrimitiveInt", display_name="Int", category=_CATEGORY, python_module=_MODULE)
class PrimitiveInt(Node):
    """A whole number, to feed INT inputs of several nodes from one place."""

    value: int = Input(0, min=-INT_LIMIT, max=INT_LIMIT, ui={"control_after_generate": True})

    def run(self, ctx: NodeContext) -> IntOutput:
        return IntOutput(self.value)


@node("PrimitiveFloat", display_name="Float", category=_CATEGORY, python_module=_MODULE)
class PrimitiveFloat(Node):
    """A number, to feed FLOAT inputs of several nodes from one place."""

    value: float = Input(0.0, min=-INT_LIMIT, max=INT_LIMIT)

    def run(self, ctx: NodeContext) -> FloatOutput:
        return FloatOutput(self.value)


@node("PrimitiveString", display_name="String", category=_CATEGORY, python_module=_MODULE)
class PrimitiveString(Node):
    """A line of text, to feed STRING inputs of several nodes from one place."""

    value: str = Input("")

    def run(self, ctx: NodeContext) -> StringOutput:
        return StringOutput(self.value)


@node(
    "PrimitiveStringMultiline", display_name="String (Multiline)", category=_CATEGORY, python_module=_MODULE
)
class PrimitiveStringMultiline(Node):
    """Several lines of text, to feed STRING inputs of several nodes from one place."""

    value: str = Input("", multiline=True)

    def run(self, ctx: NodeContext) -> StringOutput:
        return StringOutput(self.value)


@node("PrimitiveBoolean", display_name="Boolean", category=_CATEGORY, python_module=_MODULE)
class PrimitiveBoolean(Node):
    """True or false, to feed BOOLEAN inputs of several nodes from one place."""

    value: bool = Input(False)

    def run(self, ctx: NodeContext) -> BooleanOutput:
        return BooleanOutput(self.value)
