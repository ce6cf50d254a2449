"""Drive one attention edit through a sampling run: choose layers, build processors, hook the sampler.

:func:`edit_session` is the one entry point the sampler node uses::

    with edit_session(unet, edit, prompts, latent_hw, record=True) as session:
        samples = sample(..., hooks=session.hooks)
    maps = session.maps()   # recorded cross-attention, for heat-maps
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

from graphflow.attention.edits import MasaCtrl, PromptEdit
from graphflow.attention.install import installed
from graphflow.attention.layers import Layer, block_count, masactrl_start_layer, nearest_factor, unet_layers
from graphflow.attention.maps import AttentionMaps, collect
from graphflow.attention.p2p import PromptPlan, apply_blend, blend_masks
from graphflow.attention.processors import MutualProcessor, PromptProcessor, RecordProcessor
from graphflow.attention.state import EditState
from graphflow.sampling.hooks import SamplerHooks, UnetCall

BLEND_FACTOR = 4  # LocalBlend and MasaCtrl's auto mask read the latent/4 cross-attention maps
SELF_REPLACE_TOKENS = 16 * 16  # P2P replaces self-attention only on layers with at most this many positions
RECORD_TOKENS = 32 * 32  # heat-maps record cross layers with at most this many positions (P2P's store)


class EditHooks(SamplerHooks):
    """Sets the shared state before every UNet call; blends latents after every step (LocalBlend) and keeps
    the source row on a given trajectory (real-image editing)."""

    def __init__(self, session: EditSession) -> None:
        self.session = session
        self.noise_groups = (0,) * session.state.rows

    def before_unet(self, call: UnetCall) -> None:
        self.session.state.begin_call(call)
        return None

    def after_step(self, step: int, total_steps: int, x: torch.Tensor) -> torch.Tensor | None:
        return self.session.after_step(step, total_steps, x)


@dataclass
class EditSession:
    state: EditState
    edit: Any
    layers: list[Layer]
    reference: Sequence[torch.Tensor] | None = None

    def __post_init__(self) -> None:
        self.hooks = EditHooks(self)
        self.blend_factor = nearest_factor(self.layers, BLEND_FACTOR)

    def after_step(self, step: int, total: int, x: torch.Tensor) -> torch.Tensor | None:
        changed = None
        edit = self.edit
        if (
            isinstance(edit, PromptEdit)
            and edit.local_blend is not None
            and step >= edit.local_blend.start * total
        ):
            averaged = self.state.average(self.blend_factor)
            if averaged:
                maps = torch.stack([m for _, m in averaged]).mean(0)
                hw = self.state.layer_hw(maps.shape[1], self.blend_factor or 1)
                mask = blend_masks(edit.local_blend, edit, maps, tuple(x.shape[-2:]), hw)
                changed = apply_blend(x, mask.to(x.device))
        if self.reference is not None and step + 1 < len(self.reference):
            changed = (changed if changed is not None else x).clone()
            changed[0] = self.reference[step + 1].to(changed)
        return changed

    def maps(self) -> AttentionMaps | None:
        return collect(self.state, self.state.prompts)


def processors_for(unet_layers_: list[Layer], edit: Any, state: EditState, record: bool) -> dict[str, Any]:
    """Module name → processor for the layers this edit (and recording) needs; all others keep theirs."""
    processors: dict[str, Any] = {}
    cross = [layer for layer in unet_layers_ if layer.cross]
    height, width = state.latent_hw

    def positions(layer: Layer) -> int:
        return -(-height // layer.factor) * -(-width // layer.factor)

    small = [layer for layer in cross if positions(layer) <= RECORD_TOKENS]
    if not small and cross:  # a huge latent: the coarsest layers only
        coarsest = max(layer.factor for layer in cross)
        small = [layer for layer in cross if layer.factor == coarsest]
    recorded = {layer.module for layer in small} if record else set()
    blend_factor = nearest_factor(unet_layers_, BLEND_FACTOR)
    if isinstance(edit, PromptEdit):
        plan = PromptPlan(edit)
        if edit.local_blend is not None:
            recorded |= {layer.module for layer in cross if layer.factor == blend_factor}
        for layer in unet_layers_:
            if layer.cross or positions(layer) <= SELF_REPLACE_TOKENS:
                processors[layer.module] = PromptProcessor(layer, state, plan, layer.module in recorded)
    elif isinstance(edit, MasaCtrl):
        start = (
            edit.start_layer
            if edit.start_layer is not None
            else masactrl_start_layer(block_count(unet_layers_))
        )
        for layer in unet_layers_:
            if not layer.cross and layer.block >= start:
                processors[layer.module] = MutualProcessor(layer, state, edit, blend_factor)
        if edit.auto_mask:
            recorded |= {layer.module for layer in cross if layer.factor == blend_factor}
    elif edit is not None:
        raise TypeError(f"not an attention edit: {type(edit).__name__}")
    for layer in cross:
        if layer.module in recorded and layer.module not in processors:
            processors[layer.module] = RecordProcessor(layer, state)
    return processors


@contextmanager
def edit_session(
    unet: Any,
    edit: Any,
    prompts: Sequence[str],
    latent_hw: tuple[int, int],
    *,
    record: bool = False,
    reference: Sequence[torch.Tensor] | None = None,
) -> Iterator[EditSession]:
    """Install the processors of ``edit`` (a PromptEdit, MasaCtrl or None) on ``unet`` for the block.

    ``prompts``: the text of each latent row (source first); ``latent_hw``: latent size; ``record``: keep
    cross-attention maps for :meth:`EditSession.maps`; ``reference``: scaled latents the source row is reset
    to after each step (``reference[i]`` = the sample before step ``i``; from DDIM inversion).
    """
    layers = unet_layers(unet)
    state = EditState(rows=len(prompts), latent_hw=latent_hw, prompts=tuple(prompts))
    session = EditSession(state, edit, layers, reference)
    with installed(unet, processors_for(layers, edit, state, record)):
        yield session
