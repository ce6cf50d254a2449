"""Encode a prompt with a CLIP handle into ComfyUI-style conditioning.

For every encoder part of the :class:`~graphflow.models.handles.TextEncoder`:

1. the prompt is parsed (:mod:`prompt_syntax`) and chunked (:mod:`tokens`), one chunk per 75 content tokens;
2. the chunks run through the CLIP text model; the hidden state of the chosen layer is taken (``stop_at_layer``
   or the part's default; the final LayerNorm is applied when the part asks for it);
3. tokens with a weight ``w != 1`` are moved away from the empty prompt's encoding at the same position:
   ``e_empty + w * (e - e_empty)``;
4. chunks are concatenated along the token axis.

Parts are concatenated on the feature axis (SDXL: CLIP-L 768 + bigG 1280 = 2048). The pooled output is the
projected pooled state of the part marked ``pooled`` (SDXL's bigG), else the first part's pooled state, from
the first chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from graphflow.conditioning.prompt_syntax import parse_prompt
from graphflow.conditioning.tokens import Piece, TokenChunk, split_words, tokenize

if TYPE_CHECKING:
    from graphflow.conditioning.embeddings import EmbeddingLibrary
    from graphflow.models.handles import TextEncoder, TextEncoderPart


@dataclass(frozen=True)
class Encoded:
    """One part's result: ``hidden`` ``[1, 77k, width]`` and ``pooled`` ``[1, P]`` (float32, CPU)."""

    hidden: torch.Tensor
    pooled: torch.Tensor


def _clip_model(part: TextEncoderPart) -> Any:
    """The inner ``CLIPTextModel`` (a ``CLIPTextModelWithProjection`` wraps one as ``text_model``)."""
    return getattr(part.model, "text_model", part.model)


def hidden_width(part: TextEncoderPart) -> int:
    return int(_clip_model(part).config.hidden_size)


@contextmanager
def _embedding_vectors(model: Any, overrides: dict[tuple[int, int], torch.Tensor]):
    """Put textual-inversion vectors into the token embeddings at ``(row, position)`` while encoding."""
    if not overrides:
        yield
        return

    def replace(_module: Any, _inputs: Any, output: torch.Tensor) -> torch.Tensor:
        output = output.clone()
        for (row, position), vector in overrides.items():
            output[row, position] = vector.to(output.device, output.dtype)
        return output

    handle = model.get_input_embeddings().register_forward_hook(replace)
    try:
        yield
    finally:
        handle.remove()


def _run_clip(
    part: TextEncoderPart, chunks: Sequence[TokenChunk], layer: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hidden states ``[k, 77, width]`` of the chosen layer and pooled outputs ``[k, P]``."""
    model = part.model
    device = next(model.parameters()).device
    ids = torch.tensor([chunk.ids for chunk in chunks], dtype=torch.long, device=device)
    overrides = {(row, pos): vec for row, chunk in enumerate(chunks) for pos, vec in chunk.vectors.items()}
    with _embedding_vectors(model, overrides):
        out = model(input_ids=ids, output_hidden_states=True)
    projected = getattr(out, "text_embeds", None)  # CLIPTextModelWithProjection
    pooled = projected if projected is not None else out.pooler_output
    num_layers = int(_clip_model(part).config.num_hidden_layers)
    if -layer > num_layers or (layer == -1 and part.final_layer_norm):
        hidden = out.last_hidden_state  # already has the final LayerNorm
    else:
        hidden = out.hidden_states[layer]
        if part.final_layer_norm:
            hidden = _clip_model(part).final_layer_norm(hidden)
    return hidden.float(), pooled.float()


def _apply_weights(hidden: torch.Tensor, chunks: Sequence[TokenChunk], empty: torch.Tensor) -> torch.Tensor:
    weights = torch.tensor([chunk.weights for chunk in chunks], dtype=hidden.dtype, device=hidden.device)
    weights = weights.unsqueeze(-1)
    moved = empty + weights * (hidden - empty)
    return torch.where(weights != 1.0, moved, hidden)


def encode_part(
    part: TextEncoderPart, pieces: Sequence[Piece], layer: int, embeddings: EmbeddingLibrary | None
) -> Encoded:
    width = hidden_width(part)

    def vectors_for(name: str) -> torch.Tensor | None:
        return embeddings.vectors(name, width) if embeddings is not None else None

    chunks = tokenize(pieces, part.tokenizer, part.pad_token_id, vectors_for)
    weighted = any(w != 1.0 for chunk in chunks for w in chunk.weights)
    batch = list(chunks)
    if weighted:
        batch += tokenize([], part.tokenizer, part.pad_token_id, vectors_for)
    hidden, pooled = _run_clip(part, batch, layer)
    if weighted:
        hidden = _apply_weights(hidden[:-1], chunks, hidden[-1:])
    return Encoded(hidden.reshape(1, -1, hidden.shape[-1]).cpu(), pooled[:1].cpu())


def _usable_pieces(
    pieces: list[Piece], parts: Sequence[TextEncoderPart], embeddings: EmbeddingLibrary | None
) -> list[Piece]:
    """Drop embeddings that some part has no vectors for, so every part gets the same chunk count."""
    kept = []
    for piece in pieces:
        if piece.embedding is not None:
            if embeddings is None:
                continue
            if any(embeddings.vectors(piece.embedding, hidden_width(p)) is None for p in parts):
                continue
        kept.append(piece)
    return kept


@torch.no_grad()
def encode_prompt(
    clip: TextEncoder, text: str, embeddings: EmbeddingLibrary | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Encode ``text``: conditioning ``[1, 77k, D]`` and pooled output ``[1, P]`` (float32, CPU).

    Args:
        clip: the CLIP handle (one part for SD1.x/SD2.x, two for SDXL).
        text: the prompt in ComfyUI syntax.
        embeddings: where ``embedding:<name>`` words are looked up; without it they are left out.
    """
    pieces = split_words(parse_prompt(text))
    with clip.patched() as parts:
        pieces = _usable_pieces(pieces, parts, embeddings)
        results = []
        for part in parts:
            layer = clip.stop_at_layer if clip.stop_at_layer is not None else part.default_layer
            results.append((part, encode_part(part, pieces, layer, embeddings)))
    cond = torch.cat([encoded.hidden for _, encoded in results], dim=-1)
    pooled = next((encoded.pooled for part, encoded in results if part.pooled), results[0][1].pooled)
    return cond, pooled
