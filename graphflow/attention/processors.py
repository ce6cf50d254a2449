"""diffusers attention processors for attention editing.

All follow the stock processor's steps (4-D input, spatial/group norm, q/k/v projections, heads, attention,
output projection, residual, rescale) and differ only in :meth:`EditProcessor.attend`. They read the step and
the batch layout from the shared :class:`~graphflow.attention.state.EditState`; whenever they have nothing to
do for a call they use fused SDPA like the stock processor.

- :class:`PromptProcessor` — explicit softmax; Prompt-to-Prompt edits of the conditional rows; records maps;
- :class:`RecordProcessor` — explicit softmax; records cross-attention maps only (output unchanged);
- :class:`MutualProcessor` — MasaCtrl: the target rows' self-attention reads the source row's keys/values.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from graphflow.attention.edits import MasaCtrl
from graphflow.attention.layers import Layer
from graphflow.attention.p2p import PromptPlan
from graphflow.attention.state import EditState
from graphflow.attention.words import words_positions


class EditProcessor:
    """Base: the stock attention computation with an overridable ``attend(q, k, v, mask)`` on
    ``[batch, heads, tokens, head_dim]`` tensors."""

    def __init__(self, layer: Layer, state: EditState) -> None:
        self.layer, self.state = layer, state

    def __call__(
        self,
        attn: Any,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        temb: torch.Tensor | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> torch.Tensor:
        residual = hidden_states
        if attn.spatial_norm is not None:
            hidden_states = attn.spatial_norm(hidden_states, temb)
        spatial = hidden_states.ndim == 4
        if spatial:
            batch, channels, height, width = hidden_states.shape
            hidden_states = hidden_states.view(batch, channels, height * width).transpose(1, 2)
        batch = hidden_states.shape[0]
        context = hidden_states if encoder_hidden_states is None else encoder_hidden_states
        if attention_mask is not None:
            attention_mask = attn.prepare_attention_mask(attention_mask, context.shape[1], batch)
            attention_mask = attention_mask.view(batch, attn.heads, -1, attention_mask.shape[-1])
        if attn.group_norm is not None:
            hidden_states = attn.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
        query = attn.to_q(hidden_states)
        if encoder_hidden_states is not None and attn.norm_cross:
            context = attn.norm_encoder_hidden_states(context)
        key, value = attn.to_k(context), attn.to_v(context)
        head_dim = key.shape[-1] // attn.heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(batch, -1, attn.heads, head_dim).transpose(1, 2)

        query, key, value = split(query), split(key), split(value)
        if getattr(attn, "norm_q", None) is not None:
            query = attn.norm_q(query)
        if getattr(attn, "norm_k", None) is not None:
            key = attn.norm_k(key)
        out = self.attend(attn, query, key, value, attention_mask)
        out = out.transpose(1, 2).reshape(batch, -1, attn.heads * head_dim).to(query.dtype)
        out = attn.to_out[1](attn.to_out[0](out))
        if spatial:
            out = out.transpose(-1, -2).reshape(batch, channels, height, width)
        if attn.residual_connection:
            out = out + residual
        return out / attn.rescale_output_factor

    def attend(
        self, attn: Any, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None
    ) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=attn.scale)


def probabilities(attn: Any, q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """``softmax(q·kᵀ·scale)`` in float32, ``[batch, heads, N, K]``."""
    logits = (q.float() @ k.float().transpose(-1, -2)) * attn.scale
    if mask is not None:
        logits = logits + mask.float()
    return logits.softmax(dim=-1)


class RecordProcessor(EditProcessor):
    """Records the head-averaged conditional cross-attention maps of every call; the output is unchanged."""

    def attend(self, attn, q, k, v, mask):
        layout = self.state.layout
        if layout is None:
            return super().attend(attn, q, k, v, mask)
        probs = probabilities(attn, q, k, mask)
        self.state.record(self.layer.module, self.layer.factor, probs[list(layout.cond)].mean(1))
        return (probs @ v.float()).to(v.dtype)


class PromptProcessor(EditProcessor):
    """Prompt-to-Prompt: cross layers edit every call (per the α schedule); self layers replace the
    target's maps with the source's during the self-replacement steps. ``record``: also store maps."""

    def __init__(self, layer: Layer, state: EditState, plan: PromptPlan, record: bool) -> None:
        super().__init__(layer, state)
        self.plan, self.record = plan, record

    def attend(self, attn, q, k, v, mask):
        layout, state = self.state.layout, self.state
        if layout is None or len(layout.cond) < 2:
            return super().attend(attn, q, k, v, mask)
        source, targets = layout.cond[0], list(layout.cond[1:])
        if not self.layer.cross:
            if not self.plan.self_active(state.step, state.total):
                return super().attend(attn, q, k, v, mask)
            probs = probabilities(attn, q, k, mask)
            for target in targets:
                probs[target] = probs[source]
            return (probs @ v.float()).to(v.dtype)
        probs = probabilities(attn, q, k, mask)
        self.plan.edit_cross(probs, source, targets, state.step, state.total)
        if self.record:
            state.record(self.layer.module, self.layer.factor, probs[list(layout.cond)].mean(1))
        return (probs @ v.float()).to(v.dtype)


class MutualProcessor(EditProcessor):
    """MasaCtrl on a self-attention layer: from ``start_step`` on, within every CFG half, target rows attend
    to the source row's keys/values (``union``: to source and own keys); with masks, foreground and
    background queries attend to the source's foreground and background keys separately."""

    def __init__(self, layer: Layer, state: EditState, edit: MasaCtrl, blend_factor: int | None) -> None:
        super().__init__(layer, state)
        self.edit, self.blend_factor = edit, blend_factor

    def active(self) -> bool:
        step, edit = self.state.step, self.edit
        return step >= edit.start_step and (edit.end_step is None or step < edit.end_step)

    def attend(self, attn, q, k, v, mask):
        layout = self.state.layout
        if layout is None or not self.active() or len(layout.cond) < 2:
            return super().attend(attn, q, k, v, mask)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=attn.scale)
        masks = self.masks(q.shape[2]) if self.edit.masked else None
        for half in layout.halves:
            source = half[0]
            ks, vs = k[source : source + 1], v[source : source + 1]
            for target in half[1:]:
                qt = q[target : target + 1]
                if self.edit.union:
                    keys = torch.cat([ks, k[target : target + 1]], dim=2)
                    values = torch.cat([vs, v[target : target + 1]], dim=2)
                    out[target] = F.scaled_dot_product_attention(qt, keys, values, scale=attn.scale)[0]
                elif masks is None:
                    out[target] = F.scaled_dot_product_attention(qt, ks, vs, scale=attn.scale)[0]
                else:
                    out[target] = masked_mutual(qt, ks, vs, masks[0], masks[1], attn.scale)[0]
        return out

    def masks(self, tokens: int) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(source, target) foreground masks over this layer's ``tokens`` positions, or None."""
        hw = self.state.layer_hw(tokens, self.layer.factor)
        edit = self.edit
        if edit.auto_mask:
            return self.auto_masks(hw)
        source = _resize_mask(edit.source_mask, hw)
        target = _resize_mask(edit.target_mask, hw) if edit.target_mask is not None else source
        if source is None:
            source = target
        return source, target

    def auto_masks(self, hw: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor] | None:
        maps = self.state.current.get(self.blend_factor) if self.blend_factor is not None else None
        layout = self.state.layout
        if not maps or layout is None:
            return None
        mean = torch.stack(maps).mean(0)  # [rows, N, K]
        prompts = (self.edit.source_prompt, self.edit.target_prompt)
        result = []
        for row, words in ((0, self.edit.source_words), (1, self.edit.target_words)):
            columns = words_positions(prompts[row], words or prompts[row].split()[:1], where="MasaCtrl: ")
            spatial = mean[row][:, columns].sum(-1)
            low, high = spatial.min(), spatial.max()
            spatial = (spatial - low) / (high - low).clamp_min(1e-12)
            side = int(round(spatial.numel() ** 0.5))
            grid = spatial.reshape(1, 1, side, spatial.numel() // side)
            grid = F.interpolate(grid, size=hw, mode="nearest")
            result.append((grid.flatten() >= self.edit.threshold).float())
        return result[0], result[1]


def _resize_mask(mask: Any, hw: tuple[int, int]) -> torch.Tensor | None:
    if mask is None:
        return None
    tensor = torch.as_tensor(mask).float()
    tensor = tensor.reshape(-1, *tensor.shape[-2:])[:1][None]
    return (F.interpolate(tensor, size=hw, mode="nearest").flatten() > 0.5).float()


def masked_mutual(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    source: torch.Tensor,
    target: torch.Tensor,
    scale: float,
) -> torch.Tensor:
    """Target queries against source keys, foreground and background separately (spec §3.5).

    ``q [1, h, N, d]``, ``k, v [1, h, M, d]``; ``source [M]`` and ``target [N]`` are 0/1 foreground masks.
    A branch with no valid keys (mask all 0 or all 1) falls back to unmasked attention.
    """
    outputs = []
    for keep in (source > 0.5, source <= 0.5):
        if keep.all() or not keep.any():
            outputs.append(F.scaled_dot_product_attention(q, k, v, scale=scale))
            continue
        bias = torch.zeros(keep.shape, dtype=q.dtype, device=q.device)
        bias[~keep] = torch.finfo(q.dtype).min
        outputs.append(
            F.scaled_dot_product_attention(q, k, v, attn_mask=bias[None, None, None, :], scale=scale)
        )
    weight = target.to(q)[None, None, :, None]
    return outputs[0] * weight + outputs[1] * (1 - weight)
