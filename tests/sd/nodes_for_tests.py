"""A stand-in checkpoint loader for graph tests: outputs the tiny SD1 (or SDXL) handles."""

from __future__ import annotations

from typing import Literal

from graphflow.node import Input, Node, Output, Outputs, node
from graphflow.sockets import Clip, Model, Vae

from . import tiny_models


class TinyStack(Outputs):
    model: Model = Output(name="MODEL")
    clip: Clip = Output(name="CLIP")
    vae: Vae = Output(name="VAE")


@node("TinyCheckpoint", category="tests")
class TinyCheckpoint(Node):
    """The tiny randomly initialised SD-shaped stack (the VAE is the SD1 one for both families)."""

    family: Literal["sd1", "sdxl"] = Input()

    def run(self, ctx) -> TinyStack:
        if self.family == "sdxl":
            return TinyStack(tiny_models.sdxl_model(), tiny_models.sdxl_clip(), tiny_models.sd1_vae())
        return TinyStack(tiny_models.sd1_model(), tiny_models.sd1_clip(), tiny_models.sd1_vae())


TEST_NODES = [TinyCheckpoint]
