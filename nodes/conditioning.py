"""Prompt conditioning: encode text with CLIP, choose the CLIP layer, combine and place conditionings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphflow.node import Input, Node, node
from graphflow.outputs import ClipOutput, ConditioningOutput
from graphflow.sockets import Clip, Conditioning

if TYPE_CHECKING:
    from graphflow.conditioning.embeddings import EmbeddingLibrary
    from graphflow.context import NodeContext

MAX_RESOLUTION = 16384


def embedding_library(ctx: NodeContext, clip: Any) -> EmbeddingLibrary:
    """The embeddings a prompt can name: the CLIP handle's folders, then the ``embeddings`` model folders."""
    from graphflow.conditioning.embeddings import EmbeddingLibrary

    folders = list(clip.embedding_dirs)
    try:
        folders += ctx.runtime.model_folders.folders("embeddings")
    except (ImportError, KeyError):  # model folders not available: the conventional place
        folders.append(ctx.paths.models / "embeddings")
    try:
        load = ctx.runtime.models.load_embedding  # cached by the model manager
    except (ImportError, AttributeError):
        load = None
    return EmbeddingLibrary(folders, load)


@node(
    "CLIPTextEncode",
    display_name="CLIP Text Encode (Prompt)",
    category="conditioning",
    python_module="nodes",
    description=(
        "Encodes a text prompt using a CLIP model into an embedding that can be used to guide the diffusion "
        "model towards generating specific images."
    ),
)
class CLIPTextEncode(Node):
    """Encode a prompt (ComfyUI weighting syntax, ``embedding:<name>``) into CONDITIONING.

    Output: ``[[cond [1, 77k, D], {"pooled_output": [1, P]}]]``.
    """

    text: str = Input(multiline=True, ui={"dynamicPrompts": True}, tooltip="The text to be encoded.")
    clip: Clip = Input(tooltip="The CLIP model used for encoding the text.")

    def run(self, ctx: NodeContext) -> ConditioningOutput:
        from graphflow.conditioning.encode import encode_prompt

        if self.clip is None:
            raise ValueError(
                "CLIPTextEncode: the clip input is empty. If it comes from a checkpoint loader, that checkpoint "
                "has no text encoder; load one with a CLIP loader instead."
            )
        cond, pooled = encode_prompt(self.clip, self.text, embedding_library(ctx, self.clip))
        return ConditioningOutput([[cond, {"pooled_output": pooled}]])


@node(
    "CLIPSetLastLayer",
    display_name="CLIP Set Last Layer",
    category="conditioning",
    python_module="nodes",
    description="",
)
class CLIPSetLastLayer(Node):
    """Choose which CLIP layer prompts are read from: -1 the last, -2 the penultimate ("clip skip 2")."""

    clip: Clip = Input()
    stop_at_clip_layer: int = Input(-1, min=-24, max=-1, step=1)

    def run(self, ctx: NodeContext) -> ClipOutput:
        return ClipOutput(self.clip.with_last_layer(self.stop_at_clip_layer))


@node(
    "ConditioningCombine",
    display_name="Conditioning (Combine)",
    category="conditioning",
    python_module="nodes",
    description="",
)
class ConditioningCombine(Node):
    """Join two conditionings; the sampler averages their predictions (weighted by strength and area)."""

    conditioning_1: Conditioning = Input()
    conditioning_2: Conditioning = Input()

    def run(self, ctx: NodeContext) -> ConditioningOutput:
        return ConditioningOutput(list(self.conditioning_1) + list(self.conditioning_2))


@node(
    "ConditioningSetArea",
    display_name="Conditioning (Set Area)",
    category="conditioning",
    python_module="nodes",
    description="",
)
class ConditioningSetArea(Node):
    """Limit a conditioning to a rectangle (pixels); the sampler applies it there, blended by strength.

    Each entry gets ``area = (height//8, width//8, y//8, x//8)`` in latent units, ``strength`` and
    ``set_area_to_bounds = False``.
    """

    conditioning: Conditioning = Input()
    width: int = Input(64, min=64, max=MAX_RESOLUTION, step=8)
    height: int = Input(64, min=64, max=MAX_RESOLUTION, step=8)
    x: int = Input(0, min=0, max=MAX_RESOLUTION, step=8)
    y: int = Input(0, min=0, max=MAX_RESOLUTION, step=8)
    strength: float = Input(1.0, min=0.0, max=10.0, step=0.01)

    def run(self, ctx: NodeContext) -> ConditioningOutput:
        area = (self.height // 8, self.width // 8, self.y // 8, self.x // 8)
        extra = {"area": area, "strength": self.strength, "set_area_to_bounds": False}
        return ConditioningOutput(
            [[embedding, {**options, **extra}] for embedding, options in self.conditioning]
        )
