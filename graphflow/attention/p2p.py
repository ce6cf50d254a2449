"""Prompt-to-Prompt on attention probabilities (spec §2.5) and LocalBlend (§2.10).

:class:`PromptPlan` turns a :class:`~graphflow.attention.edits.PromptEdit` into tensors once per run length
and edits the conditional rows of a layer's probabilities: the source row is never changed, nor is any
unconditional row.
"""

from __future__ import annotations

from functools import cache

import torch
import torch.nn.functional as F

from graphflow.attention.edits import LocalBlend, PromptEdit
from graphflow.attention.mappers import cross_schedule, equalizer, refine_mapper, replace_matrix, self_steps
from graphflow.attention.words import words_positions
from graphflow.models.tokenizer import MAX_LENGTH


class PromptPlan:
    """The token maps of one edit; :meth:`schedule` gives the per-run-length tables."""

    def __init__(self, edit: PromptEdit) -> None:
        self.edit = edit
        self.matrix = replace_matrix(edit.source, edit.target) if edit.kind == "replace" else None
        self.mapper, self.alpha = (
            refine_mapper(edit.source, edit.target) if edit.kind == "refine" else (None, None)
        )
        self.scales = equalizer(edit.target, edit.scales) if edit.scales else None
        self._tables: dict[int, tuple[torch.Tensor, range]] = {}

    def schedule(self, total: int) -> tuple[torch.Tensor, range]:
        """``(α [total + 1, 77], self-replacement steps)`` for a run of ``total`` steps."""
        if total not in self._tables:
            table = cross_schedule(self.edit.target, total, self.edit.cross_replace, self.edit.word_schedule)
            self._tables[total] = (table, self_steps(self.edit.self_replace, total))
        return self._tables[total]

    def replacement(self, base: torch.Tensor, edited: torch.Tensor) -> torch.Tensor:
        """``R(base, E)`` over token chunks: ``base [h, N, K]``, ``edited [h, N, K]`` with K a multiple of 77
        (longer token sequences are tiled 77-token chunks)."""
        heads, tokens, keys = base.shape
        chunks = keys // MAX_LENGTH
        base = base.reshape(heads, tokens, chunks, MAX_LENGTH)
        edited_chunks = edited.reshape(heads, tokens, chunks, MAX_LENGTH)
        if self.matrix is not None:
            result = base @ self.matrix.to(base)
        elif self.mapper is not None:
            alpha = self.alpha.to(base)
            gathered = base[..., self.mapper.clamp_min(0).to(base.device)]
            result = alpha * gathered + (1 - alpha) * edited_chunks
        else:
            result = base
        if self.scales is not None:
            result = result * self.scales.to(base)
        return result.reshape(heads, tokens, keys)

    def edit_cross(self, probs: torch.Tensor, source: int, targets: list[int], step: int, total: int) -> None:
        """Edit ``probs [batch, h, N, K]`` in place: cross-attention rows ``targets`` from row ``source``."""
        if probs.shape[-1] % MAX_LENGTH:
            return
        table, _ = self.schedule(total)
        alpha = table[min(step, table.shape[0] - 1)].to(probs)
        alpha = alpha.repeat(probs.shape[-1] // MAX_LENGTH)
        base = probs[source]
        for target in targets:
            replaced = self.replacement(base, probs[target])
            probs[target] = alpha * replaced + (1 - alpha) * probs[target]

    def self_active(self, step: int, total: int) -> bool:
        return step in self.schedule(total)[1]


@cache
def _blend_tokens(prompt: str, words: tuple[str, ...]) -> torch.Tensor:
    weights = torch.zeros(MAX_LENGTH)
    weights[words_positions(prompt, words, where="AttentionLocalBlend: ")] = 1.0
    return weights


def blend_masks(
    blend: LocalBlend,
    edit: PromptEdit,
    maps: torch.Tensor,
    latent_hw: tuple[int, int],
    map_hw: tuple[int, int],
) -> torch.Tensor:
    """The LocalBlend mask ``[rows, 1, H, W]`` (bool) from averaged cross maps ``[rows, N, K]``.

    Per row: the maps of its words summed over tokens, max-pooled 3×3, resized (nearest) to the latent,
    normalised by the maximum, thresholded; edited rows take the union with the source's mask.
    """
    rows, tokens, keys = maps.shape
    words = [_blend_tokens(edit.source, blend.source_words)]
    words += [_blend_tokens(edit.target, blend.target_words)] * (rows - 1)
    weights = torch.stack(words).to(maps).repeat(1, keys // MAX_LENGTH)
    spatial = (maps * weights[:, None, :]).sum(-1).reshape(rows, 1, *map_hw)
    spatial = F.max_pool2d(spatial, 3, stride=1, padding=1)
    spatial = F.interpolate(spatial, size=latent_hw, mode="nearest")
    peak = spatial.flatten(1).amax(1).clamp_min(1e-12)[:, None, None, None]
    mask = spatial / peak > blend.threshold
    return mask | mask[:1]


def apply_blend(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``x_i ← x_0 + mask_i ⊙ (x_i − x_0)``; row 0 unchanged."""
    source = x[:1]
    return source + mask.to(x) * (x - source)
