"""Prompt-to-Prompt token maps and schedules (spec §2.6–2.9), as plain tensors over 77 token positions.

- :func:`replace_matrix` — word swap: ``M [77, 77]`` with ``R = base ·_K M``;
- :func:`align` / :func:`refine_mapper` — Needleman–Wunsch alignment of token ids, giving for every target
  position its source position (or −1 for inserted tokens) and the ``α`` that keeps new words' own maps;
- :func:`equalizer` — per-token scale for re-weighting;
- :func:`cross_schedule` / :func:`self_steps` — which steps replace cross- and self-attention.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from graphflow.attention.words import prompt_words, token_ids, word_positions, word_token_blocks
from graphflow.models.tokenizer import MAX_LENGTH

GAP, MATCH, MISMATCH = 0, 1, -1
LEFT, UP, DIAGONAL, ORIGIN = 1, 2, 3, 4


def replace_matrix(source: str, target: str, length: int = MAX_LENGTH) -> torch.Tensor:
    """``M [length, length]``: source token → target token for a word swap.

    The prompts must have the same number of words; differing words map block to block (pairwise when the
    blocks have the same length, spread evenly otherwise), every other token maps to its counterpart, and
    positions after a block keep the offset between the two prompts.
    """
    source_words, target_words = prompt_words(source), prompt_words(target)
    if len(source_words) != len(target_words):
        raise ValueError(
            f"a word swap needs prompts with the same number of words; {source!r} has {len(source_words)}, "
            f"{target!r} has {len(target_words)}: use AttentionRefine to add or remove words"
        )
    source_blocks, target_blocks = word_token_blocks(source), word_token_blocks(target)
    swapped = {
        blocks[0]: (blocks, target_blocks[index])
        for index, blocks in enumerate(source_blocks)
        if source_words[index].lower() != target_words[index].lower()
    }
    matrix = torch.zeros(length, length)
    i = j = 0
    while i < length and j < length:
        if i in swapped:
            src, tgt = swapped[i]
            if len(src) == len(tgt):
                for s, t in zip(src, tgt, strict=True):
                    matrix[s, t] = 1.0
            else:
                for s in src:
                    for t in tgt:
                        matrix[s, t] = 1.0 / len(tgt)
            i, j = i + len(src), j + len(tgt)
        else:
            matrix[i, j] = 1.0
            i, j = i + 1, j + 1
    return matrix


def align(x: Sequence[int], y: Sequence[int]) -> list[int]:
    """Needleman–Wunsch global alignment (gap 0, match +1, mismatch −1; ties prefer left, up, diagonal).

    Returns, for each position of ``y``, the aligned position in ``x`` or −1 where ``y`` inserts a token.
    """
    rows, cols = len(x) + 1, len(y) + 1
    score = [[0] * cols for _ in range(rows)]
    trace = [[0] * cols for _ in range(rows)]
    for j in range(1, cols):
        score[0][j], trace[0][j] = GAP * j, LEFT
    for i in range(1, rows):
        score[i][0], trace[i][0] = GAP * i, UP
    trace[0][0] = ORIGIN
    for i in range(1, rows):
        for j in range(1, cols):
            left = score[i][j - 1] + GAP
            up = score[i - 1][j] + GAP
            diagonal = score[i - 1][j - 1] + (MATCH if x[i - 1] == y[j - 1] else MISMATCH)
            best = max(left, up, diagonal)
            score[i][j] = best
            trace[i][j] = LEFT if best == left else UP if best == up else DIAGONAL
    aligned: list[int] = []
    i, j = len(x), len(y)
    while trace[i][j] != ORIGIN:
        code = trace[i][j]
        if code == DIAGONAL:
            aligned.append(i - 1)
            i, j = i - 1, j - 1
        elif code == LEFT:
            aligned.append(-1)
            j -= 1
        else:
            i -= 1
    return aligned[::-1]


def refine_mapper(source: str, target: str, length: int = MAX_LENGTH) -> tuple[torch.Tensor, torch.Tensor]:
    """``(mapper [length] long, alpha [length] float)`` for a refinement edit.

    ``mapper[j]`` is the source position target token ``j`` takes its map from (−1 for inserted tokens,
    ``j`` for padding); ``alpha[j]`` is 1 where the map is inherited, 0 where the target keeps its own.
    """
    aligned = align(token_ids(source), token_ids(target))
    mapper = torch.arange(length)
    alpha = torch.ones(length)
    for j, i in enumerate(aligned[:length]):
        mapper[j] = i
        alpha[j] = 0.0 if i < 0 else 1.0
    return mapper, alpha


def equalizer(prompt: str, scales: Sequence[tuple[str, float]], length: int = MAX_LENGTH) -> torch.Tensor:
    """``[length]`` ones, with ``scale`` at the token positions of each ``(word, scale)``."""
    values = torch.ones(length)
    for word, scale in scales:
        for position in word_positions(prompt, word, where="AttentionReweight: "):
            values[position] = float(scale)
    return values


def _rows(bounds: tuple[float, float], rows: int) -> tuple[int, int]:
    return int(bounds[0] * rows), int(bounds[1] * rows)


def cross_schedule(
    target: str,
    steps: int,
    default: tuple[float, float],
    per_word: Sequence[tuple[str, float, float]] = (),
    length: int = MAX_LENGTH,
) -> torch.Tensor:
    """``α [steps + 1, length]``: 1 where cross-attention of that token is replaced at that step.

    ``default`` is ``(start, end)`` as fractions of the run for every token; ``per_word`` overrides the
    columns of each ``(word, start, end)`` (looked up in the target prompt). Row ``r`` is on when
    ``int(start·(steps+1)) <= r < int(end·(steps+1))``.
    """
    table = torch.zeros(steps + 1, length)
    first, last = _rows(default, steps + 1)
    table[first:last, :] = 1.0
    for word, start, end in per_word:
        columns = word_positions(target, word, where="cross-attention schedule: ")
        first, last = _rows((start, end), steps + 1)
        table[:, columns] = 0.0
        table[first:last, columns] = 1.0
    return table


def self_steps(bounds: tuple[float, float], steps: int) -> range:
    """The steps ``[int(steps·start), int(steps·end))`` whose self-attention maps are replaced."""
    return range(*_rows(bounds, steps))
