"""Render per-word cross-attention maps over an image as an IMAGE."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from graphflow.attention.maps import AttentionMaps
from graphflow.attention.words import word_positions

# A blue → cyan → yellow → red ramp (5 stops), for 0 … 1.
_RAMP = torch.tensor(
    [[0.0, 0.0, 0.5], [0.0, 0.5, 1.0], [0.2, 1.0, 0.8], [1.0, 0.9, 0.0], [0.9, 0.0, 0.0]], dtype=torch.float32
)


def colourise(values: torch.Tensor) -> torch.Tensor:
    """``[H, W]`` in 0..1 to ``[H, W, 3]`` colours along :data:`_RAMP`."""
    position = values.clamp(0, 1) * (len(_RAMP) - 1)
    low = position.floor().long().clamp(max=len(_RAMP) - 2)
    frac = (position - low)[..., None]
    return _RAMP[low] * (1 - frac) + _RAMP[low + 1] * frac


def word_map(maps: AttentionMaps, row: int, word: str, where: str = "") -> torch.Tensor:
    """The map of ``word`` in row ``row`` (its tokens summed), normalised to 0..1, ``[h, w]``."""
    positions = word_positions(maps.prompts[row], word, where=where)
    grid = maps.maps[row, positions].sum(0)
    low, high = grid.min(), grid.max()
    return (grid - low) / (high - low).clamp_min(1e-12)


def render(
    maps: AttentionMaps, image: torch.Tensor, words: Sequence[str], row: int, opacity: float, where: str = ""
) -> torch.Tensor:
    """One overlay per word: ``image [H, W, 3]`` blended with the word's coloured map. Returns ``[n, H, W, 3]``."""
    height, width = image.shape[:2]
    pictures = []
    for word in words:
        grid = word_map(maps, row, word, where)[None, None]
        grid = F.interpolate(grid, size=(height, width), mode="bilinear", align_corners=False)[0, 0]
        pictures.append(image[..., :3] * (1 - opacity) + colourise(grid) * opacity)
    return torch.stack(pictures).clamp(0, 1)
