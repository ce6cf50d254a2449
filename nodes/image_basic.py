"""Images without a model: a solid-colour batch, and colour inversion."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from graphflow.node import Input, Node, node
from graphflow.outputs import ImageOutput
from graphflow.sockets import Image

if TYPE_CHECKING:
    from graphflow.context import NodeContext

MAX_RESOLUTION = 16384


@node("EmptyImage", display_name="EmptyImage", category="image", python_module="nodes")
class EmptyImage(Node):
    """Create a batch of images filled with one colour.

    Returns IMAGE ``[batch_size, height, width, 3]`` in 0..1; ``color`` is 0xRRGGBB.
    """

    width: int = Input(512, min=1, max=MAX_RESOLUTION, step=1)
    height: int = Input(512, min=1, max=MAX_RESOLUTION, step=1)
    batch_size: int = Input(1, min=1, max=4096)
    color: int = Input(0, min=0, max=0xFFFFFF, step=1, ui={"display": "color"})

    def run(self, ctx: NodeContext) -> ImageOutput:
        rgb = torch.tensor([(self.color >> 16) & 0xFF, (self.color >> 8) & 0xFF, self.color & 0xFF]) / 255.0
        return ImageOutput(rgb.expand(self.batch_size, self.height, self.width, 3).contiguous())


@node("ImageInvert", display_name="Invert Image", category="image", python_module="nodes")
class ImageInvert(Node):
    """Invert the colours of an image batch (each channel becomes 1 - value)."""

    image: Image = Input()

    def run(self, ctx: NodeContext) -> ImageOutput:
        return ImageOutput(1.0 - self.image)
