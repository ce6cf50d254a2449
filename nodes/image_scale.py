"""ImageScale and ImageScaleBy: resize image batches."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphflow.imaging.resize import CROP_METHODS, IMAGE_METHODS, resize
from graphflow.node import Input, Node, node
from graphflow.outputs import ImageOutput
from graphflow.sockets import Image

if TYPE_CHECKING:
    from graphflow.context import NodeContext

MAX_RESOLUTION = 16384


@node(
    "ImageScale",
    display_name="Upscale Image",
    category="image/upscaling",
    python_module="nodes",
    description="",
)
class ImageScale(Node):
    """Resize to ``width x height``; 0 for one side keeps the aspect ratio, both 0 leave the image as it is."""

    image: Image = Input()
    upscale_method: str = Input(options=IMAGE_METHODS)
    width: int = Input(512, min=0, max=MAX_RESOLUTION, step=1)
    height: int = Input(512, min=0, max=MAX_RESOLUTION, step=1)
    crop: str = Input(options=CROP_METHODS)

    def run(self, ctx: NodeContext) -> ImageOutput:
        if self.width == 0 and self.height == 0:
            return ImageOutput(self.image)
        old_h, old_w = self.image.shape[1], self.image.shape[2]
        width = self.width or max(1, round(old_w * self.height / old_h))
        height = self.height or max(1, round(old_h * self.width / old_w))
        pixels = resize(self.image.movedim(-1, 1), width, height, self.upscale_method, self.crop)
        return ImageOutput(pixels.movedim(1, -1).clamp(0.0, 1.0))


@node(
    "ImageScaleBy",
    display_name="Upscale Image By",
    category="image/upscaling",
    python_module="nodes",
    description="",
)
class ImageScaleBy(Node):
    """Resize by a factor: ``round(W * scale_by) x round(H * scale_by)``."""

    image: Image = Input()
    upscale_method: str = Input(options=IMAGE_METHODS)
    scale_by: float = Input(1.0, min=0.01, max=8.0, step=0.01)

    def run(self, ctx: NodeContext) -> ImageOutput:
        width = max(1, round(self.image.shape[2] * self.scale_by))
        height = max(1, round(self.image.shape[1] * self.scale_by))
        pixels = resize(self.image.movedim(-1, 1), width, height, self.upscale_method)
        return ImageOutput(pixels.movedim(1, -1).clamp(0.0, 1.0))
