"""TextTemplate: fill ``{a}``, ``{b}`` and ``{c}`` in a template with text from other nodes."""

from __future__ import annotations

from graphflow import Input, Node, NodeContext, StringOutput, node


@node("ExampleTextTemplate", display_name="Text Template", category="utils/example_pack")
class TextTemplate(Node):
    """Replace ``{a}``, ``{b}`` and ``{c}`` in ``template`` by the given texts (missing ones by "").

    Only these three placeholders are replaced; other braces are left as they are, so prompts with
    ``{red|blue}`` choices or JSON pass through untouched.
    """

    template: str = Input("a photo of {a}, {b}", multiline=True)
    a: str = Input("", optional=True)
    b: str = Input("", optional=True)
    c: str = Input("", optional=True)

    def run(self, ctx: NodeContext) -> StringOutput:
        text = self.template
        for name in ("a", "b", "c"):
            text = text.replace("{" + name + "}", str(getattr(self, name) or ""))
        return StringOutput(text)
