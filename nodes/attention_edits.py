"""Attention-edit nodes: each builds an ATTENTION_EDIT (a pure description) for KSamplerAttentionEdit.

Prompt-to-Prompt (Hertz et al. 2022, https://arxiv.org/abs/2208.01626): Replace, Refine, Reweight,
LocalBlend. MasaCtrl (Cao et al. 2023, https://arxiv.org/abs/2304.08465): mutual self-attention.
Prompts here are plain text (no weighting syntax) and must match the prompts encoded for the sampler.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from graphflow.node import Input, Node, Output, Outputs, node
from graphflow.sockets import AttentionEdit, Mask

if TYPE_CHECKING:
    from graphflow.context import NodeContext

PROMPT_TIP = "Plain text, identical to the text encoded for this branch (weighting syntax is not understood)."
CROSS_TIP = (
    "Fraction of the steps (from the start) during which the target's cross-attention maps are taken from "
    "the source. Higher keeps more of the source's layout; lower lets the new words act more."
)
SELF_TIP = (
    "Fraction of the steps (from the start) during which the target's coarse self-attention maps are the "
    "source's. Higher keeps the source's structure more strictly."
)
SCHEDULE_TIP = (
    "Optional per-word cross-replacement fractions of target words, e.g. 'lion:0.4, hat:0.2-0.9' "
    "(end, or start-end)."
)


class EditOutput(Outputs):
    edit: AttentionEdit = Output(
        name="ATTENTION_EDIT", tooltip="Connect to KSamplerAttentionEdit's edit input."
    )


def _fraction(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not a number; write fractions like 0.4 or 0.2-0.8") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{where}: {value} is outside 0..1 (fractions of the steps)")
    return value


def parse_word_schedule(text: str, where: str) -> tuple[tuple[str, float, float], ...]:
    """``"lion:0.4, hat:0.2-0.9"`` → ``(("lion", 0.0, 0.4), ("hat", 0.2, 0.9))``."""
    entries = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        word, sep, bounds = item.rpartition(":")
        if not sep or not word.strip():
            raise ValueError(f"{where}: {item!r} should look like 'word:0.4' or 'word:0.2-0.8'")
        low, dash, high = bounds.partition("-")
        start, end = (_fraction(low, where), _fraction(high, where)) if dash else (0.0, _fraction(low, where))
        entries.append((word.strip(), start, end))
    return tuple(entries)


def parse_words(text: str) -> tuple[str, ...]:
    return tuple(word for word in text.replace(",", " ").split() if word)


def checked(edit: Any, node_name: str) -> Any:
    """Build the edit's token maps once so that wrong words fail here, naming the node."""
    from graphflow.attention.p2p import PromptPlan

    try:
        PromptPlan(edit).schedule(10)
    except ValueError as error:
        raise ValueError(f"{node_name}: {error}") from None
    return edit


class _PromptPair(Node):
    source_prompt: str = Input("", multiline=True, tooltip="The source prompt. " + PROMPT_TIP)
    target_prompt: str = Input("", multiline=True, tooltip="The edited prompt. " + PROMPT_TIP)
    cross_replace: float = Input(0.8, min=0.0, max=1.0, step=0.05, tooltip=CROSS_TIP)
    self_replace: float = Input(0.4, min=0.0, max=1.0, step=0.05, tooltip=SELF_TIP)
    word_schedule: str = Input("", tooltip=SCHEDULE_TIP)

    def _edit(self, kind: str, node_name: str) -> EditOutput:
        from graphflow.attention.edits import PromptEdit

        schedule = parse_word_schedule(self.word_schedule, f"{node_name} word_schedule")
        edit = PromptEdit(
            kind,  # type: ignore[arg-type]
            self.source_prompt,
            self.target_prompt,
            (0.0, self.cross_replace),
            (0.0, self.self_replace),
            schedule,
        )
        return EditOutput(checked(edit, node_name))


@node("AttentionReplace", display_name="Attention Replace (word swap)", category="attention")
class AttentionReplace(_PromptPair):
    """Prompt-to-Prompt word swap: the target prompt differs from the source by replaced words ("a red
    circle" → "a green circle"); the new words attend where the old ones did, so the layout stays and only
    what the words describe changes. Both prompts must have the same number of words (words may span several
    tokens)."""

    def run(self, ctx: NodeContext) -> EditOutput:
        return self._edit("replace", "AttentionReplace")


@node("AttentionRefine", display_name="Attention Refine (add words)", category="attention")
class AttentionRefine(_PromptPair):
    """Prompt-to-Prompt refinement: the target prompt adds or changes words ("a circle" → "a large red
    circle"). Tokens are aligned (Needleman–Wunsch); aligned tokens inherit the source's maps, new words keep
    their own."""

    def run(self, ctx: NodeContext) -> EditOutput:
        return self._edit("refine", "AttentionRefine")


@node("AttentionReweight", display_name="Attention Reweight", category="attention")
class AttentionReweight(Node):
    """Prompt-to-Prompt re-weighting: scale how much the image attends to one word (> 1 stronger, < 1
    weaker, < 0 suppressed). Without ``previous`` the source and target prompt are the same text; with a
    previous edit (Replace/Refine/Reweight) the scale is added to it, for words of its target prompt."""

    prompt: str = Input(
        "", multiline=True, tooltip="The prompt (ignored when 'previous' is connected). " + PROMPT_TIP
    )
    word: str = Input("", tooltip="The word (or words, space-separated) to re-weight.")
    scale: float = Input(2.0, min=-10.0, max=10.0, step=0.1, tooltip="Factor on the word's attention maps.")
    cross_replace: float = Input(0.8, min=0.0, max=1.0, step=0.05, tooltip=CROSS_TIP)
    self_replace: float = Input(0.4, min=0.0, max=1.0, step=0.05, tooltip=SELF_TIP)
    previous: AttentionEdit = Input(optional=True, tooltip="An edit to chain this re-weighting onto.")

    def run(self, ctx: NodeContext) -> EditOutput:
        from graphflow.attention.edits import PromptEdit

        if not self.word.strip():
            raise ValueError("AttentionReweight: the word input is empty; name a word of the prompt")
        previous = self.__dict__.get("previous")
        if previous is None:
            edit = PromptEdit(
                "reweight",
                self.prompt,
                self.prompt,
                (0.0, self.cross_replace),
                (0.0, self.self_replace),
                scales=((self.word, self.scale),),
            )
        elif isinstance(previous, PromptEdit):
            edit = replace(previous, scales=(*previous.scales, (self.word, self.scale)))
        else:
            raise ValueError(
                "AttentionReweight: the previous edit is not a Prompt-to-Prompt edit; chain it onto "
                "AttentionReplace, AttentionRefine or AttentionReweight"
            )
        return EditOutput(checked(edit, "AttentionReweight"))


@node("AttentionLocalBlend", display_name="Attention Local Blend", category="attention")
class AttentionLocalBlend(Node):
    """Keep everything outside the edited words' region identical to the source: after every step, the
    target latent is reset to the source's wherever neither the source words nor the target words attend
    (their averaged cross-attention, normalised, is below the threshold)."""

    edit: AttentionEdit = Input(tooltip="A Prompt-to-Prompt edit (Replace, Refine or Reweight).")
    source_words: str = Input(
        "", tooltip="Words of the source prompt whose region may change, e.g. 'circle'."
    )
    target_words: str = Input("", tooltip="Words of the target prompt whose region may change.")
    threshold: float = Input(
        0.3, min=0.0, max=1.0, step=0.01, tooltip="Fraction of the map's peak counted as inside."
    )
    start: float = Input(
        0.0, min=0.0, max=1.0, step=0.05, tooltip="Fraction of the steps before blending starts."
    )

    def run(self, ctx: NodeContext) -> EditOutput:
        from graphflow.attention.edits import LocalBlend, PromptEdit
        from graphflow.attention.words import words_positions

        if not isinstance(self.edit, PromptEdit):
            raise ValueError(
                "AttentionLocalBlend: the edit input must be a Prompt-to-Prompt edit, not MasaCtrl"
            )
        source, target = parse_words(self.source_words), parse_words(self.target_words)
        if not source and not target:
            raise ValueError("AttentionLocalBlend: give source_words and/or target_words (the edited object)")
        try:
            words_positions(self.edit.source, source)
            words_positions(self.edit.target, target)
        except ValueError as error:
            raise ValueError(f"AttentionLocalBlend: {error}") from None
        blend = LocalBlend(source, target, self.threshold, self.start)
        return EditOutput(replace(self.edit, local_blend=blend))


@node("MasaCtrl", display_name="MasaCtrl (mutual self-attention)", category="attention")
class MasaCtrlNode(Node):
    """MasaCtrl: the target image's self-attention reads the source image's keys and values, so the target
    follows its own prompt's layout, pose or size while keeping the source's identity, colours and texture.
    Applied from ``start_step`` on and in transformer blocks from ``start_layer`` on (−1: the paper's 10 of
    16 blocks, scaled to the model's depth). Optional masks separate foreground and background."""

    start_step: int = Input(4, min=0, max=10000, tooltip="First step with mutual self-attention (paper: 4).")
    start_layer: int = Input(
        -1,
        min=-1,
        max=200,
        tooltip="First transformer block (execution order); -1 = paper default for the model.",
    )
    mode: Literal["mutual", "union"] = Input(
        tooltip="mutual: the target attends to the source only; union: to the source and itself."
    )
    auto_mask: bool = Input(False, tooltip="Separate foreground/background with masks from cross-attention.")
    source_prompt: str = Input(
        "", multiline=True, tooltip="Source prompt text (auto mask only). " + PROMPT_TIP
    )
    target_prompt: str = Input(
        "", multiline=True, tooltip="Target prompt text (auto mask only). " + PROMPT_TIP
    )
    source_words: str = Input("", tooltip="Auto mask: the source's object words (default: its first word).")
    target_words: str = Input("", tooltip="Auto mask: the target's object words (default: its first word).")
    mask_threshold: float = Input(
        0.1, min=0.0, max=1.0, step=0.01, tooltip="Auto mask threshold (paper: 0.1)."
    )
    source_mask: Mask = Input(optional=True, tooltip="Foreground mask of the source image.")
    target_mask: Mask = Input(
        optional=True, tooltip="Foreground mask of the target image (default: source's)."
    )

    def run(self, ctx: NodeContext) -> EditOutput:
        from graphflow.attention.edits import MasaCtrl
        from graphflow.attention.words import words_positions

        source_words, target_words = parse_words(self.source_words), parse_words(self.target_words)
        if self.auto_mask:
            for prompt, words, name in (
                (self.source_prompt, source_words, "source"),
                (self.target_prompt, target_words, "target"),
            ):
                if not prompt.strip():
                    raise ValueError(f"MasaCtrl: auto_mask needs the {name}_prompt text to find its words")
                try:
                    words_positions(prompt, words or prompt.split()[:1])
                except ValueError as error:
                    raise ValueError(f"MasaCtrl {name}_words: {error}") from None
        edit = MasaCtrl(
            start_step=self.start_step,
            start_layer=None if self.start_layer < 0 else self.start_layer,
            union=self.mode == "union",
            source_mask=self.__dict__.get("source_mask"),
            target_mask=self.__dict__.get("target_mask"),
            auto_mask=self.auto_mask,
            source_prompt=self.source_prompt,
            target_prompt=self.target_prompt,
            source_words=source_words,
            target_words=target_words,
            threshold=self.mask_threshold,
        )
        return EditOutput(edit)
