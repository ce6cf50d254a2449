"""AttentionHeatMap: where in the picture each word of the prompt was attended to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from graphflow.node import Input, Node, node
from graphflow.outputs import ImageOutput
from graphflow.sockets import AttentionMaps, Image

if TYPE_CHECKING:
    from graphflow.context import NodeContext


@node("AttentionHeatMap", display_name="Attention Heat Map", category="attention")
class AttentionHeatMap(Node):
    """Render per-word cross-attention heat-maps (averaged over layers and steps, from
    KSamplerAttentionEdit's ATTENTION_MAPS) over the generated image: one picture per word, blue (little
    attention) to red (most). Several tokens of one word are summed; each map is normalised to its range."""

    maps: AttentionMaps = Input(tooltip="ATTENTION_MAPS from KSamplerAttentionEdit (record_attention on).")
    image: Image = Input(
        tooltip="The decoded image of the same branch (the first picture of the batch is used)."
    )
    words: str = Input("", tooltip="Words of the prompt to show, separated by commas or spaces.")
    branch: Literal["source", "target"] = Input(tooltip="Which branch's attention to show.")
    prompt: str = Input(
        "",
        multiline=True,
        tooltip="The branch's prompt text; leave empty when the sampler had a Prompt-to-Prompt edit (its text is used).",
    )
    opacity: float = Input(
        0.6, min=0.0, max=1.0, step=0.05, tooltip="How strongly the heat-map covers the image."
    )

    def run(self, ctx: NodeContext) -> ImageOutput:
        from dataclasses import replace

        from graphflow.attention.heatmap import render

        maps = self.maps
        if maps is None or maps.maps is None:
            raise ValueError(
                "AttentionHeatMap: the maps are empty; turn record_attention on in KSamplerAttentionEdit"
            )
        row = 0 if self.branch == "source" or maps.maps.shape[0] == 1 else 1
        prompts = list(maps.prompts) + [""] * (maps.maps.shape[0] - len(maps.prompts))
        if self.prompt.strip():
            prompts[row] = self.prompt
        if not prompts[row].strip():
            raise ValueError(
                f"AttentionHeatMap: the {self.branch} prompt text is unknown; type it into the prompt input"
            )
        words = [w for w in self.words.replace(",", " ").split() if w]
        if not words:
            raise ValueError("AttentionHeatMap: the words input is empty; name words of the prompt")
        maps = replace(maps, prompts=tuple(prompts))
        picture = render(
            maps, self.image[0].float().cpu(), words, row, self.opacity, "AttentionHeatMap words: "
        )
        return ImageOutput(picture)
