"""ATTENTION_MAPS: cross-attention recorded during a run, averaged over layers and UNet calls.

Every recorded layer's head-averaged map is resized (bilinear) to the finest recorded feature map and the
layers are averaged, giving one ``[tokens, h, w]`` stack per latent row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from graphflow.models.tokenizer import MAX_LENGTH


@dataclass(frozen=True, eq=False)
class AttentionMaps:
    """``maps [rows, 77, h, w]`` (float32, CPU, rows in latent order, source first) and each row's prompt."""

    prompts: tuple[str, ...]
    maps: Any = field(repr=False)


def collect(state: Any, prompts: tuple[str, ...]) -> AttentionMaps | None:
    """The averaged maps of an :class:`~graphflow.attention.state.EditState`, or None if nothing was recorded."""
    recorded = state.average()
    if not recorded:
        return None
    grids = []
    for factor, maps in recorded:
        rows, tokens, keys = maps.shape
        height, width = state.layer_hw(tokens, factor)
        maps = maps.reshape(rows, tokens, keys // MAX_LENGTH, MAX_LENGTH).mean(2)  # tiled chunks are equal
        grids.append(maps.transpose(1, 2).reshape(rows, MAX_LENGTH, height, width))
    size = max((g.shape[-2:] for g in grids), key=lambda s: s[0] * s[1])
    resized = [F.interpolate(g, size=tuple(size), mode="bilinear", align_corners=False) for g in grids]
    return AttentionMaps(tuple(prompts), torch.stack(resized).mean(0).float().cpu())
