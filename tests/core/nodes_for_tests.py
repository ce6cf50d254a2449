"""Small native nodes used by the core tests (registered into a test registry, never shipped)."""

from __future__ import annotations

from typing import Literal

from graphflow import Input, IntOutput, Node, NodeContext, Outputs, StringOutput, node
from graphflow.sockets import AnyValue

CALLS: list[str] = []


@node("TestAdd", category="testing")
class Add(Node):
    """Add two integers."""

    a: int = Input(0, min=-1000, max=1000)
    b: int = Input(0, min=-1000, max=1000)

    def run(self, ctx: NodeContext) -> IntOutput:
        CALLS.append(f"add:{ctx.node_id}")
        return IntOutput(self.a + self.b)


@node("TestFail", category="testing")
class Fail(Node):
    """Raise when run."""

    value: int = Input(optional=True)

    def run(self, ctx: NodeContext) -> IntOutput:
        raise RuntimeError("this node always fails")


@node("TestShow", category="testing", output_node=True)
class Show(Node):
    """Output node that shows a value."""

    value: AnyValue = Input()

    def run(self, ctx: NodeContext) -> Outputs:
        CALLS.append(f"show:{ctx.node_id}")
        return Outputs(ui={"text": [str(self.value)]})


@node("TestSteps", category="testing")
class Steps(Node):
    """Report progress for a number of steps."""

    steps: int = Input(5, min=1, max=100)

    def run(self, ctx: NodeContext) -> IntOutput:
        for step in range(self.steps):
            ctx.progress(step + 1, self.steps)
        return IntOutput(self.steps)


FINGERPRINTS = {"value": 0}


@node("TestFingerprint", category="testing")
class Fingerprinted(Node):
    """Output depends on something outside the graph (FINGERPRINTS)."""

    name: str = Input("x")

    @classmethod
    def fingerprint(cls, runtime, **constants):
        return FINGERPRINTS["value"]

    def run(self, ctx: NodeContext) -> StringOutput:
        CALLS.append(f"fp:{ctx.node_id}")
        return StringOutput(f"{self.name}{FINGERPRINTS['value']}")


@node("TestChoose", category="testing")
class Choose(Node):
    """A combo input and a custom validation rule."""

    mode: Literal["red", "green", "blue"] = Input("red")
    count: int = Input(1)

    @classmethod
    def validate(cls, runtime, **constants):
        if constants.get("count") == 13:
            return {"count": "13 is not allowed"}
        return None

    def run(self, ctx: NodeContext) -> StringOutput:
        return StringOutput(self.mode * self.count)


TEST_NODES = [Add, Fail, Show, Steps, Fingerprinted, Choose]
