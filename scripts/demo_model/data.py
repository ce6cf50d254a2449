"""Training data for the demo model: image batches, foreground weights, crops and pre-tokenised captions."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

import numpy as np
import torch

from graphflow.demo.shapes import BACKGROUNDS, IMAGE_SIZE, Example, Scene, training_scenes


def images_to_tensor(examples: Sequence[Example]) -> torch.Tensor:
    """Render ``examples`` into a float tensor ``[B, 3, 128, 128]`` in -1..1."""
    pixels = np.stack([np.asarray(example.image()) for example in examples])
    return torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def background_tensor(examples: Sequence[Example]) -> torch.Tensor:
    """Each example's background colour as ``[B, 3, 1, 1]`` in -1..1."""
    colours = torch.tensor(
        [BACKGROUNDS[example.scene.background] for example in examples], dtype=torch.float32
    )
    return colours.view(-1, 3, 1, 1) / 127.5 - 1.0


def crop_around_shapes(
    images: torch.Tensor, examples: Sequence[Example], size: int, rng: random.Random
) -> torch.Tensor:
    """Square crops ``[B, 3, size, size]`` placed near each shape (random offset up to size/4)."""
    crops = []
    for image, example in zip(images, examples, strict=True):
        spread = size // 4
        left = example.placement.centre_x - size // 2 + rng.randint(-spread, spread)
        top = example.placement.centre_y - size // 2 + rng.randint(-spread, spread)
        left = min(max(left, 0), IMAGE_SIZE - size)
        top = min(max(top, 0), IMAGE_SIZE - size)
        crops.append(image[:, top : top + size, left : left + size])
    return torch.stack(crops)


def foreground_weight(images: torch.Tensor, backgrounds: torch.Tensor, boost: float) -> torch.Tensor:
    """Per-pixel loss weight ``[B, 1, H, W]``: 1 on background, ``1 + boost`` on and around the shape.

    Shapes cover a few percent of an image; without the boost the VAE first learns backgrounds only.
    """
    foreground = (images - backgrounds).abs().amax(dim=1, keepdim=True) > 0.05
    return 1.0 + boost * foreground.float()


class CaptionTable:
    """Token ids of every caption the training set can produce, looked up by scene and phrase choice.

    Caption variants: each of size, position and background is kept or left out (8 variants per scene).
    ``ids`` has shape ``[len(scenes), 8, 77]``; ``empty`` is the id row of ``""`` (for guidance dropout).
    """

    VARIANTS: tuple[tuple[bool, bool, bool], ...] = tuple(itertools.product((True, False), repeat=3))

    def __init__(self, tokenizer: object, scenes: Sequence[Scene] | None = None) -> None:
        self.scenes = list(scenes or training_scenes())
        self.index = {scene: position for position, scene in enumerate(self.scenes)}
        captions = [
            scene.caption(size=size, position=position, background=background)
            for scene in self.scenes
            for size, position, background in self.VARIANTS
        ]
        encode = tokenizer  # a transformers CLIPTokenizer: callable on a list of strings
        ids = encode(
            captions, padding="max_length", max_length=77, truncation=True, return_tensors="pt"
        ).input_ids
        self.ids = ids.view(len(self.scenes), len(self.VARIANTS), 77)
        self.empty = encode([""], padding="max_length", max_length=77, return_tensors="pt").input_ids[0]

    def sample(
        self,
        scenes: Sequence[Scene],
        generator: torch.Generator,
        phrase_dropout: float,
        caption_dropout: float,
    ) -> torch.Tensor:
        """Token ids ``[B, 77]``: each optional phrase left out with ``phrase_dropout``, the whole caption
        replaced by the empty one with ``caption_dropout``."""
        rows = torch.tensor([self.index[scene] for scene in scenes])
        dropped = torch.rand(len(scenes), 3, generator=generator) < phrase_dropout
        # VARIANTS enumerates (keep size, keep position, keep background) with True first: bit set = dropped.
        variant = (dropped[:, 0].long() << 2) | (dropped[:, 1].long() << 1) | dropped[:, 2].long()
        ids = self.ids[rows, variant].clone()
        unconditional = torch.rand(len(scenes), generator=generator) < caption_dropout
        ids[unconditional] = self.empty
        return ids
