"""Annotations that give node inputs and outputs their socket type.

Write ``image: Image = Input()`` and the input is an ``IMAGE`` socket. The Python type behind each alias is
``Any`` so that declaring nodes never imports torch; the docstrings say what the value really is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from graphflow import types as t


@dataclass(frozen=True)
class Socket:
    """Marks an annotation as a socket of the given type name."""

    type: str


Image = Annotated[Any, Socket(t.IMAGE)]
"""IMAGE: float tensor ``[B, H, W, C]`` in 0..1, channels last (C = 3, sometimes 4)."""

Mask = Annotated[Any, Socket(t.MASK)]
"""MASK: float tensor ``[B, H, W]`` in 0..1; 1 marks the selected region."""

Latent = Annotated[Any, Socket(t.LATENT)]
"""LATENT: dict with ``samples`` ``[B, C, H/8, W/8]`` (raw VAE latents), optional ``noise_mask``
``[B or 1, 1, H', W']`` and ``batch_index`` (list of int). Never mutated in place."""

Conditioning = Annotated[Any, Socket(t.CONDITIONING)]
"""CONDITIONING: list of ``[embedding [1, T, D], options dict]`` entries (``pooled_output``, ``area``, ...)."""

Model = Annotated[Any, Socket(t.MODEL)]
"""MODEL: :class:`graphflow.models.handles.DiffusionModel`."""

Clip = Annotated[Any, Socket(t.CLIP)]
"""CLIP: :class:`graphflow.models.handles.TextEncoder`."""

Vae = Annotated[Any, Socket(t.VAE)]
"""VAE: :class:`graphflow.models.handles.Vae`."""

AttentionEdit = Annotated[Any, Socket(t.ATTENTION_EDIT)]
"""ATTENTION_EDIT: a pure description of an attention edit, consumed by a sampler
(:mod:`graphflow.attention.edits`: ``PromptEdit`` or ``MasaCtrl``)."""

AttentionMaps = Annotated[Any, Socket(t.ATTENTION_MAPS)]
"""ATTENTION_MAPS: cross-attention recorded by a sampler, averaged over layers and steps
(:class:`graphflow.attention.maps.AttentionMaps`: per latent row, a ``[77, h, w]`` map per token)."""

AnyValue = Annotated[Any, Socket(t.ANY)]
"""``*``: accepts or produces any value."""
