"""PreviewAny: show any value as text in the editor (and in history / ``--json`` output)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from graphflow.node import Input, Node, Outputs, node
from graphflow.sockets import AnyValue

if TYPE_CHECKING:
    from graphflow.context import NodeContext


def describe(value: Any) -> str:
    """Readable text for a value: strings as they are, JSON for plain data, a summary for tensors."""
    if isinstance(value, str):
        return value
    shape = getattr(value, "shape", None)
    if shape is not None and hasattr(value, "dtype"):
        text = f"tensor of shape {list(shape)}, {str(value.dtype).replace('torch.', '')}"
        if value.numel():
            import torch

            low, high = torch.aminmax(value.detach().float())
            text += f", min {low.item():.4g}, max {high.item():.4g}"
        return text
    try:
        return json.dumps(value, indent=4)
    except (TypeError, ValueError):
        return str(value)


@node(
    "PreviewAny",
    display_name="Preview Any",
    category="utils",
    python_module="comfy_extras.nodes_preview_any",
    output_node=True,
)
class PreviewAny(Node):
    """Show the value of any output as text."""

    source: AnyValue = Input()

    def run(self, ctx: NodeContext) -> Outputs:
        return Outputs(ui={"text": [describe(self.source)]})
