"""Latent nodes: empty latents, resizing, batch slicing and repetition, noise masks.

LATENT values are dicts (``samples``, optional ``noise_mask`` and ``batch_index``); nodes copy the dict and
replace keys, never mutating their input.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch

from graphflow.imaging.resize import CROP_METHODS, LATENT_METHODS, resize
from graphflow.node import Input, Node, node
from graphflow.outputs import LatentOutput
from graphflow.sockets import Latent, Mask

if TYPE_CHECKING:
    from graphflow.context import NodeContext

MAX_RESOLUTION = 16384
LATENT_CHANNELS = 4
DOWNSCALE = 8
MIN_DERIVED_SIZE = 64


@node(
    "EmptyLatentImage",
    display_name="Empty Latent Image",
    category="latent",
    python_module="nodes",
    description="Create a new batch of empty latent images to be denoised via sampling.",
)
class EmptyLatentImage(Node):
    """Zeros ``[batch_size, 4, height // 8, width // 8]``: the start of text-to-image sampling."""

    width: int = Input(512, min=16, max=MAX_RESOLUTION, step=8)
    height: int = Input(512, min=16, max=MAX_RESOLUTION, step=8)
    batch_size: int = Input(1, min=1, max=4096)

    def run(self, ctx: NodeContext) -> LatentOutput:
        shape = (self.batch_size, LATENT_CHANNELS, self.height // DOWNSCALE, self.width // DOWNSCALE)
        return LatentOutput({"samples": torch.zeros(shape)})


def _target_size(samples: torch.Tensor, width: int, height: int) -> tuple[int, int]:
    """Latent (width, height) for a pixel size where 0 means "keep the aspect ratio" (at least 64 px)."""
    latent_h, latent_w = samples.shape[-2:]
    if width == 0:
        height = max(MIN_DERIVED_SIZE, height)
        width = max(MIN_DERIVED_SIZE, round(latent_w * height / latent_h))
    elif height == 0:
        width = max(MIN_DERIVED_SIZE, width)
        height = max(MIN_DERIVED_SIZE, round(latent_h * width / latent_w))
    return max(1, width // DOWNSCALE), max(1, height // DOWNSCALE)


@node(
    "LatentUpscale", display_name="Upscale Latent", category="latent", python_module="nodes", description=""
)
class LatentUpscale(Node):
    """Resize latents to a pixel size (/8 in latent units); 0 for one side keeps the aspect ratio, both 0
    leave the latent as it is. ``center`` crops to the new aspect ratio first."""

    samples: Latent = Input()
    upscale_method: str = Input(options=LATENT_METHODS)
    width: int = Input(512, min=0, max=MAX_RESOLUTION, step=8)
    height: int = Input(512, min=0, max=MAX_RESOLUTION, step=8)
    crop: str = Input(options=CROP_METHODS)

    def run(self, ctx: NodeContext) -> LatentOutput:
        if self.width == 0 and self.height == 0:
            return LatentOutput(dict(self.samples))
        samples = self.samples["samples"]
        latent_w, latent_h = _target_size(samples, self.width, self.height)
        return LatentOutput(
            {**self.samples, "samples": resize(samples, latent_w, latent_h, self.upscale_method, self.crop)}
        )


@node(
    "LatentUpscaleBy",
    display_name="Upscale Latent By",
    category="latent",
    python_module="nodes",
    description="",
)
class LatentUpscaleBy(Node):
    """Resize latents by a factor: ``round(W * scale_by) x round(H * scale_by)`` latent pixels."""

    samples: Latent = Input()
    upscale_method: str = Input(options=LATENT_METHODS)
    scale_by: float = Input(1.5, min=0.01, max=8.0, step=0.01)

    def run(self, ctx: NodeContext) -> LatentOutput:
        samples = self.samples["samples"]
        width = max(1, round(samples.shape[-1] * self.scale_by))
        height = max(1, round(samples.shape[-2] * self.scale_by))
        return LatentOutput({**self.samples, "samples": resize(samples, width, height, self.upscale_method)})


def _batched_mask(mask: torch.Tensor, batch: int) -> torch.Tensor:
    if mask.shape[0] < batch:
        mask = mask.repeat(math.ceil(batch / mask.shape[0]), 1, 1, 1)
    return mask[:batch]


@node(
    "LatentFromBatch",
    display_name="Latent From Batch",
    category="latent/batch",
    python_module="nodes",
    description="",
)
class LatentFromBatch(Node):
    """Take rows ``batch_index .. batch_index + length - 1``. The rows keep their original ``batch_index`` so a
    sampler gives them the noise they had in the whole batch."""

    samples: Latent = Input()
    batch_index: int = Input(0, min=0, max=63)
    length: int = Input(1, min=1, max=64)

    def run(self, ctx: NodeContext) -> LatentOutput:
        samples = self.samples["samples"]
        start = min(samples.shape[0] - 1, self.batch_index)
        length = min(samples.shape[0] - start, self.length)
        out: dict[str, Any] = {**self.samples, "samples": samples[start : start + length].clone()}
        mask = self.samples.get("noise_mask")
        if mask is not None:
            out["noise_mask"] = (
                mask.clone()
                if mask.shape[0] == 1
                else _batched_mask(mask, samples.shape[0])[start : start + length].clone()
            )
        previous = self.samples.get("batch_index")
        out["batch_index"] = (
            list(previous[start : start + length]) if previous else list(range(start, start + length))
        )
        return LatentOutput(out)


@node(
    "RepeatLatentBatch",
    display_name="Repeat Latent Batch",
    category="latent/batch",
    python_module="nodes",
    description="",
)
class RepeatLatentBatch(Node):
    """Repeat the batch ``amount`` times; batched noise masks repeat with it and ``batch_index`` continues
    with new positions."""

    samples: Latent = Input()
    amount: int = Input(1, min=1, max=64)

    def run(self, ctx: NodeContext) -> LatentOutput:
        samples = self.samples["samples"]
        out: dict[str, Any] = {**self.samples, "samples": samples.repeat(self.amount, 1, 1, 1)}
        mask = self.samples.get("noise_mask")
        if mask is not None and mask.shape[0] > 1:
            out["noise_mask"] = _batched_mask(mask, samples.shape[0]).repeat(self.amount, 1, 1, 1)
        indices = self.samples.get("batch_index")
        if indices:
            span = max(indices) - min(indices) + 1
            out["batch_index"] = list(indices) + [
                i + k * span for k in range(1, self.amount) for i in indices
            ]
        return LatentOutput(out)


@node(
    "SetLatentNoiseMask",
    display_name="Set Latent Noise Mask",
    category="latent/inpaint",
    python_module="nodes",
    description="",
)
class SetLatentNoiseMask(Node):
    """Attach a mask: the sampler then only changes the masked (1) region of the latent."""

    samples: Latent = Input()
    mask: Mask = Input()

    def run(self, ctx: NodeContext) -> LatentOutput:
        mask = self.mask.reshape(-1, 1, self.mask.shape[-2], self.mask.shape[-1])
        return LatentOutput({**self.samples, "noise_mask": mask})
