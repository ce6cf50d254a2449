"""Token grounding for the UNet stage: make the colour and shape words attend to where the shape is.

Without it the tiny model passes its caption through cross-attention as a global signal (every position
attends alike), so Prompt-to-Prompt, which edits the attention *maps*, has nothing to act on: replacing every
map of a "red circle" run in a "green circle" run still moves the shape. The grounding term is the token loss
of TokenCompose (Wang et al. 2023): for each object token, one minus the share of its cross-attention mass
that falls inside the shape's mask, averaged over tokens and cross-attention layers. Training data is rendered,
so exact masks come for free.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import AttnProcessor

from graphflow.demo.shapes import COLOURS, IMAGE_SIZE, SHAPES

MASK_GRID = 16
"""Side of the stored coverage grids (the latent's size); coarser layers pool them."""
MIN_COVERAGE = 0.1
"""A latent cell belongs to the shape when the shape covers at least this share of it."""


def coverage(images: torch.Tensor, backgrounds: torch.Tensor) -> torch.Tensor:
    """Share of each latent cell covered by the shape, ``[B, 16, 16]`` in 0..1.

    ``images [B, 3, 128, 128]`` and ``backgrounds [B, 3, 1, 1]`` in -1..1 (data.images_to_tensor and
    data.background_tensor). A pixel is the shape's when a channel differs from the background by more than
    24 of 255 levels (24.5 keeps the integer comparison exact in float).
    """
    inside = ((images - backgrounds).abs().amax(dim=1, keepdim=True) > 24.5 / 127.5).float()
    return F.avg_pool2d(inside, IMAGE_SIZE // MASK_GRID).squeeze(1)


def object_token_ids(tokenizer: object) -> torch.Tensor:
    """CLIP ids of every colour and shape word; each word must be a single token."""
    words = list(COLOURS) + list(SHAPES)
    ids = tokenizer(words, add_special_tokens=False).input_ids
    several = [word for word, tokens in zip(words, ids, strict=True) if len(tokens) != 1]
    if several:
        raise ValueError(f"grounded words must be single CLIP tokens: {several}")
    return torch.tensor([tokens[0] for tokens in ids])


class CrossAttentionCapture:
    """Explicit-softmax cross-attention (as diffusers' AttnProcessor computes it) that also keeps each call's
    probabilities ``[B, heads, N, K]`` in ``sink``."""

    def __init__(self, sink: list[torch.Tensor]) -> None:
        self.sink = sink

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, **kw):
        # attn2 of a BasicTransformerBlock: 3-D input, no spatial/group norm, residual or rescale of its own.
        query = attn.head_to_batch_dim(attn.to_q(hidden_states))
        key = attn.head_to_batch_dim(attn.to_k(encoder_hidden_states))
        value = attn.head_to_batch_dim(attn.to_v(encoder_hidden_states))
        probs = attn.get_attention_scores(query, key, None)
        self.sink.append(probs.view(-1, attn.heads, *probs.shape[1:]))
        out = attn.batch_to_head_dim(torch.bmm(probs, value))
        return attn.to_out[1](attn.to_out[0](out))


def install_capture(unet: torch.nn.Module) -> list[torch.Tensor]:
    """Explicit-softmax attention everywhere, cross-attention probabilities captured; returns the sink."""
    sink: list[torch.Tensor] = []
    unet.set_attn_processor(
        {
            name: CrossAttentionCapture(sink) if name.endswith("attn2.processor") else AttnProcessor()
            for name in unet.attn_processors
        }
    )
    return sink


def grounding_loss(captured: list[torch.Tensor], grounded: torch.Tensor, cover: torch.Tensor) -> torch.Tensor:
    """Mean over layers and grounded tokens of ``1 − mass inside the mask / total mass``.

    ``grounded [B, 77]`` marks object tokens (rows without any add nothing); ``cover [B, 16, 16]`` is the
    shape's coverage of the latent grid.
    """
    rows = grounded.any(dim=1)
    if not rows.any() or not captured:
        return torch.zeros(())
    token_weight = grounded[rows].float()
    losses = []
    for probs in captured:
        maps = probs.float().mean(1)[rows]  # [b, N, 77]
        side = int(round(maps.shape[1] ** 0.5))
        pooled = F.adaptive_avg_pool2d(cover[rows].unsqueeze(1), side).flatten(1)
        mask = (pooled >= MIN_COVERAGE).float()  # [b, N]
        inside = (maps * mask.unsqueeze(-1)).sum(1) / maps.sum(1).clamp_min(1e-6)  # [b, 77]
        losses.append((((1.0 - inside) * token_weight).sum(1) / token_weight.sum(1)).mean())
    return torch.stack(losses).mean()
