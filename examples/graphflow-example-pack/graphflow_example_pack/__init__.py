"""graphflow example pack: two small nodes, registered through the ``graphflow.nodes`` entry point."""

from .image_grid import ImageGrid
from .text_template import TextTemplate

GRAPHFLOW_NODES = [ImageGrid, TextTemplate]
__all__ = ["GRAPHFLOW_NODES", "ImageGrid", "TextTemplate"]
