"""Prompt words to CLIP token positions (P2P's ``get_word_inds``, on graphflow's shipped tokenizer).

Positions count from the start of the 77-token sequence, so BOS is position 0 and the first content token is
position 1. A "word" is a whitespace-separated piece of the prompt; attached punctuation belongs to it.
"""

from __future__ import annotations

from collections.abc import Sequence

from graphflow.models.tokenizer import MAX_LENGTH, clip_tokenizer

CONTENT_LIMIT = MAX_LENGTH - 2


class WordNotFound(ValueError):
    """A word named by an edit does not occur in its prompt."""


def prompt_words(prompt: str) -> list[str]:
    """The prompt's words (whitespace collapsed, so repeated spaces never make empty words)."""
    return prompt.split()


def word_token_blocks(prompt: str) -> list[list[int]]:
    """For each word of ``prompt``, its token positions (BOS = 0). Raises ValueError past 75 tokens."""
    tokenizer = clip_tokenizer()
    words = prompt_words(prompt)
    encoded = tokenizer(words, add_special_tokens=False)["input_ids"] if words else []
    blocks, position = [], 1
    for ids in encoded:
        blocks.append(list(range(position, position + len(ids))))
        position += len(ids)
    if position - 1 > CONTENT_LIMIT:
        raise ValueError(
            f"the prompt {prompt!r} has {position - 1} tokens; attention edits support at most {CONTENT_LIMIT} "
            "(one 77-token chunk): shorten it"
        )
    return blocks


def token_ids(prompt: str) -> list[int]:
    """BOS, the prompt's token ids, EOS (no padding)."""
    tokenizer = clip_tokenizer()
    ids = [tokenizer.bos_token_id]
    for word in prompt_words(prompt):
        ids.extend(tokenizer(word, add_special_tokens=False)["input_ids"])
    return [*ids, tokenizer.eos_token_id]


def word_positions(prompt: str, word: str | int, *, where: str = "") -> list[int]:
    """Token positions of ``word`` in ``prompt``: every occurrence when given as text (case-insensitive),
    the word at that 0-based index when given as an int. Several words may be given as one string
    (``"red circle"``). ``where`` names the node input for the error message."""
    blocks = word_token_blocks(prompt)
    words = [w.lower() for w in prompt_words(prompt)]
    if isinstance(word, int):
        if not 0 <= word < len(blocks):
            raise WordNotFound(
                f"{where}word index {word} is outside the prompt {prompt!r} ({len(blocks)} words)"
            )
        return list(blocks[word])
    found: list[int] = []
    for part in word.lower().split():
        hits = [i for i, w in enumerate(words) if w == part or w.strip(",.;:!?") == part]
        if not hits:
            raise WordNotFound(
                f"{where}the word {part!r} is not in the prompt {prompt!r}; use one of its words: "
                f"{', '.join(prompt_words(prompt))}"
            )
        for index in hits:
            found.extend(blocks[index])
    return sorted(set(found))


def words_positions(prompt: str, words: Sequence[str], *, where: str = "") -> list[int]:
    """The union of :func:`word_positions` over several words."""
    found: set[int] = set()
    for word in words:
        found.update(word_positions(prompt, word, where=where))
    return sorted(found)
