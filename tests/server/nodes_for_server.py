"""Nodes the server tests queue: a slow node that reports progress (with previews), one that fails and an
output node that saves a small PNG. Registered into test runtimes only, never shipped."""

from __future__ import annotations

import time

from graphflow import Input, IntOutput, Node, NodeContext, Outputs, node
from graphflow.sockets import AnyValue


@node("ServerTestSleep", category="testing")
class Sleep(Node):
    """Sleep ``steps`` × ``step_ms`` milliseconds, reporting progress (and a preview image) every step."""

    steps: int = Input(3, min=1, max=100000)
    step_ms: int = Input(1, min=0, max=10000)
    seed: int = Input(0, min=0, max=1 << 40)
    preview: bool = Input(False)

    def run(self, ctx: NodeContext) -> IntOutput:
        from PIL import Image

        for step in range(self.steps):
            time.sleep(self.step_ms / 1000)
            image = Image.new("RGB", (64, 48), (step * 40 % 256, 80, 160)) if self.preview else None
            ctx.progress(step + 1, self.steps, image)
        return IntOutput(self.seed)


@node("ServerTestFail", category="testing")
class Fail(Node):
    """Raise a RuntimeError when run."""

    value: AnyValue = Input(optional=True)

    def run(self, ctx: NodeContext) -> IntOutput:
        raise RuntimeError("this node always fails")


@node("ServerTestSave", category="testing", output_node=True)
class Save(Node):
    """Save a 4×4 PNG whose colour encodes ``value`` into ``output/`` and show it."""

    value: AnyValue = Input()

    def run(self, ctx: NodeContext) -> Outputs:
        from PIL import Image

        name = f"server_test_{ctx.prompt_id[:8]}_{ctx.node_id}.png"
        folder = ctx.paths.output
        folder.mkdir(parents=True, exist_ok=True)
        Image.new("RGBA", (4, 4), (int(self.value) % 256, 10, 20, 128)).save(folder / name)
        return Outputs(ui={"images": [{"filename": name, "subfolder": "", "type": "output"}]})


@node("ServerTestOddUi", category="testing", output_node=True)
class OddUi(Node):
    """An output node whose ``ui`` holds something JSON cannot (a set)."""

    value: AnyValue = Input()

    def run(self, ctx: NodeContext) -> Outputs:
        return Outputs(ui={"text": [{"odd"}]})


SERVER_TEST_NODES = [Sleep, Fail, Save, OddUi]
