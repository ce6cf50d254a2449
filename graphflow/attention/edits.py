"""ATTENTION_EDIT values: pure, immutable descriptions of an attention edit.

Edit nodes build them; :class:`~nodes.attention_sampler.KSamplerAttentionEdit` turns one into processors for
the duration of a run. Nothing here touches a model.

- :class:`PromptEdit` — Prompt-to-Prompt: ``replace`` (word swap), ``refine`` (aligned tokens inherit the
  source maps), ``reweight`` (same prompt, scaled words); any kind can carry word ``scales`` (a chained
  re-weighting) and a :class:`LocalBlend`.
- :class:`MasaCtrl` — mutual self-attention: the target's self-attention reads the source's keys/values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

PromptKind = Literal["replace", "refine", "reweight"]


@dataclass(frozen=True)
class LocalBlend:
    """Keep the target equal to the source outside the region of ``source_words`` ∪ ``target_words``.

    ``threshold``: fraction of the map's maximum that counts as inside (paper 0.3); ``start``: fraction of
    the run before blending begins (0 = from the first step).
    """

    source_words: tuple[str, ...]
    target_words: tuple[str, ...]
    threshold: float = 0.3
    start: float = 0.0


@dataclass(frozen=True)
class PromptEdit:
    """A Prompt-to-Prompt edit of ``source`` into ``target`` (spec §2).

    ``cross_replace``/``self_replace``: ``(start, end)`` fractions of the run during which the target's
    cross-attention maps come from the source (through the kind's token map), and its coarse self-attention
    maps are the source's. ``word_schedule``: per-word ``(word, start, end)`` overrides of ``cross_replace``
    (words of the target prompt). ``scales``: ``(word, scale)`` pairs multiplying the target's maps of those
    words (words of the target prompt).
    """

    kind: PromptKind
    source: str
    target: str
    cross_replace: tuple[float, float] = (0.0, 0.8)
    self_replace: tuple[float, float] = (0.0, 0.4)
    word_schedule: tuple[tuple[str, float, float], ...] = ()
    scales: tuple[tuple[str, float], ...] = ()
    local_blend: LocalBlend | None = None


@dataclass(frozen=True)
class MasaCtrl:
    """Mutual self-attention control (spec §3).

    From step ``start_step`` (up to ``end_step``, None = the end) and in transformer blocks from
    ``start_layer`` on (None = the paper's default mapped onto the model's depth), the target's self-attention
    queries attend to the source's keys and values. ``union``: attend to source and own keys together.
    ``source_mask``/``target_mask``: foreground masks (MASK tensors, any resolution) separating foreground
    and background attention; ``auto_mask``: derive them from the cross-attention of ``source_words`` and
    ``target_words`` (maps thresholded at ``threshold`` after min–max normalising).
    """

    start_step: int = 4
    start_layer: int | None = None
    end_step: int | None = None
    union: bool = False
    source_mask: Any = field(default=None, compare=False)
    target_mask: Any = field(default=None, compare=False)
    auto_mask: bool = False
    source_prompt: str = ""
    target_prompt: str = ""
    source_words: tuple[str, ...] = ()
    target_words: tuple[str, ...] = ()
    threshold: float = 0.1

    @property
    def masked(self) -> bool:
        return self.auto_mask or self.source_mask is not None or self.target_mask is not None


AttentionEditValue = PromptEdit | MasaCtrl


def describe(edit: Any) -> str:
    """A one-line summary for logs and errors."""
    if isinstance(edit, PromptEdit):
        return f"prompt-to-prompt {edit.kind}: {edit.source!r} -> {edit.target!r}"
    if isinstance(edit, MasaCtrl):
        return f"MasaCtrl from step {edit.start_step}" + (" (union)" if edit.union else "")
    return type(edit).__name__
