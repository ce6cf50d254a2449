"""Turn a weighted prompt into 77-token chunks for one CLIP encoder.

Each chunk is ``BOS + up to 75 content tokens + EOS + padding`` (77 positions). Content is grouped by word (a
whitespace-separated piece of text, or one textual-inversion embedding); a word of at most
:data:`WORD_KEEP_TOGETHER` tokens that does not fit in the current chunk starts the next one instead of being
split, so a short word is never cut in half at a chunk boundary.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graphflow.models.tokenizer import END_TOKEN_ID, MAX_LENGTH, START_TOKEN_ID

CONTENT_PER_CHUNK = MAX_LENGTH - 2
WORD_KEEP_TOGETHER = 8
EMBEDDING_PREFIX = "embedding:"
# Placeholder id where an embedding vector goes: any id but the end token (pooling looks for the first one).
EMBEDDING_PLACEHOLDER_ID = 0
_TRAILING_PUNCTUATION = ",.;!?"


@dataclass(frozen=True)
class Piece:
    """One word of the prompt: text to tokenize, or an embedding reference, with its weight."""

    weight: float
    text: str = ""
    embedding: str | None = None


@dataclass(frozen=True)
class TokenChunk:
    """77 positions: ``ids`` and ``weights`` per position; ``vectors`` maps positions to embedding vectors."""

    ids: tuple[int, ...]
    weights: tuple[float, ...]
    vectors: dict[int, Any]


def split_words(segments: Sequence[tuple[str, float]]) -> list[Piece]:
    """Split weighted segments into words, recognising ``embedding:<name>`` words."""
    pieces: list[Piece] = []
    for text, weight in segments:
        for word in text.split():
            if word.startswith(EMBEDDING_PREFIX) and len(word) > len(EMBEDDING_PREFIX):
                name = word[len(EMBEDDING_PREFIX) :]
                stripped = name.rstrip(_TRAILING_PUNCTUATION)
                pieces.append(Piece(weight, embedding=stripped))
                if stripped != name:
                    pieces.append(Piece(weight, text=name[len(stripped) :]))
            else:
                pieces.append(Piece(weight, text=word))
    return pieces


def _token_groups(
    pieces: Sequence[Piece], tokenizer: Any, vectors_for: Callable[[str], Any | None]
) -> list[list[tuple[int, float, Any]]]:
    """Per word, its ``(id, weight, vector-or-None)`` tokens."""
    texts = [p.text for p in pieces if p.embedding is None]
    encoded = iter(tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else [])
    groups: list[list[tuple[int, float, Any]]] = []
    for piece in pieces:
        if piece.embedding is None:
            groups.append([(int(i), piece.weight, None) for i in next(encoded)])
            continue
        vectors = vectors_for(piece.embedding)
        if vectors is not None:
            groups.append([(EMBEDDING_PLACEHOLDER_ID, piece.weight, row) for row in vectors])
    return [g for g in groups if g]


def chunk_tokens(groups: Sequence[Sequence[tuple[int, float, Any]]], pad_token_id: int) -> list[TokenChunk]:
    """Pack word token groups into 77-position chunks (at least one chunk, even for an empty prompt)."""
    chunks: list[list[tuple[int, float, Any]]] = [[]]
    for group in groups:
        current = chunks[-1]
        room = CONTENT_PER_CHUNK - len(current)
        if len(group) > room and len(group) <= WORD_KEEP_TOGETHER and current:
            chunks.append([])
        for token in group:
            if len(chunks[-1]) == CONTENT_PER_CHUNK:
                chunks.append([])
            chunks[-1].append(token)
    return [_finish(content, pad_token_id) for content in chunks]


def _finish(content: list[tuple[int, float, Any]], pad_token_id: int) -> TokenChunk:
    ids = [START_TOKEN_ID] + [t[0] for t in content] + [END_TOKEN_ID]
    weights = [1.0] + [t[1] for t in content] + [1.0]
    vectors = {pos + 1: t[2] for pos, t in enumerate(content) if t[2] is not None}
    padding = MAX_LENGTH - len(ids)
    return TokenChunk(tuple(ids + [pad_token_id] * padding), tuple(weights + [1.0] * padding), vectors)


def tokenize(
    pieces: Sequence[Piece], tokenizer: Any, pad_token_id: int, vectors_for: Callable[[str], Any | None]
) -> list[TokenChunk]:
    """Chunks for one encoder. ``vectors_for(name)`` gives an embedding's ``[n, width]`` rows or None."""
    return chunk_tokens(_token_groups(pieces, tokenizer, vectors_for), pad_token_id)
