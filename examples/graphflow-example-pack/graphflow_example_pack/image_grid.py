"""ImageGrid: tile an image batch into one image, row by row."""

from __future__ import annotations

import math

import torch

from graphflow import Image, ImageOutput, Input, Node, NodeContext, node


@node("ExampleImageGrid", display_name="Image Grid", category="image/example_pack")
class ImageGrid(Node):
    """Arrange the images of a batch in a grid (one image per cell, row by row).

    Input IMAGE ``[B, H, W, C]``; output IMAGE ``[1, rows*H + (rows-1)*gap, columns*W + (columns-1)*gap, C]``
    with ``rows = ceil(B / columns)``. Empty cells and gaps are filled with ``background`` (0 black .. 1 white).
    """

    images: Image = Input(tooltip="The batch to arrange.")
    columns: int = Input(2, min=1, max=64, tooltip="Images per row.")
    gap: int = Input(4, min=0, max=256, tooltip="Pixels between cells.")
    background: float = Input(1.0, min=0.0, max=1.0, step=0.05, tooltip="Grey level of gaps and empty cells.")

    def run(self, ctx: NodeContext) -> ImageOutput:
        batch, height, width, channels = self.images.shape
        columns = min(self.columns, batch)
        rows = math.ceil(batch / columns)
        grid = torch.full(
            (1, rows * height + (rows - 1) * self.gap, columns * width + (columns - 1) * self.gap, channels),
            self.background,
            dtype=self.images.dtype,
        )
        for index in range(batch):
            row, column = divmod(index, columns)
            top, left = row * (height + self.gap), column * (width + self.gap)
            grid[0, top : top + height, left : left + width] = self.images[index]
            ctx.progress(index + 1, batch)
        return ImageOutput(grid)
