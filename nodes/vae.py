"""VAE nodes: decode latents to images, encode images (optionally masked for inpainting models)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from graphflow.node import Input, Node, Output, Outputs, node
from graphflow.outputs import LatentOutput
from graphflow.sockets import Image, Latent, Mask, Vae

if TYPE_CHECKING:
    from graphflow.context import NodeContext


class DecodedImage(Outputs):
    image: Image = Output(name="IMAGE")


def _require(vae: object, node_name: str) -> None:
    if vae is None:
        raise ValueError(
            f"{node_name}: the vae input is empty. If it comes from a checkpoint without a VAE, load one with Load VAE."
        )


@node(
    "VAEDecode",
    display_name="VAE Decode",
    category="latent",
    python_module="nodes",
    description="Decodes latent images back into pixel space images.",
)
class VAEDecode(Node):
    """Raw latents to IMAGE ``[B, H, W, 3]`` in 0..1."""

    samples: Latent = Input(tooltip="The latent to be decoded.")
    vae: Vae = Input(tooltip="The VAE model used for decoding the latent.")

    def run(self, ctx: NodeContext) -> DecodedImage:
        from graphflow.imaging.vae import decode

        _require(self.vae, "VAE Decode")
        return DecodedImage(decode(self.vae, self.samples["samples"]))


@node("VAEEncode", display_name="VAE Encode", category="latent", python_module="nodes", description="")
class VAEEncode(Node):
    """IMAGE to raw latents (the posterior mean); alpha is ignored, sizes are cropped to multiples of 8."""

    pixels: Image = Input()
    vae: Vae = Input()

    def run(self, ctx: NodeContext) -> LatentOutput:
        from graphflow.imaging.vae import encode

        _require(self.vae, "VAE Encode")
        return LatentOutput({"samples": encode(self.vae, self.pixels)})


def grow_mask(mask: torch.Tensor, pixels: int) -> torch.Tensor:
    """Dilate a ``[B, 1, H, W]`` 0/1 mask with a ``pixels x pixels`` box (0 leaves it unchanged)."""
    if pixels <= 0:
        return mask
    padding = math.ceil((pixels - 1) / 2)
    grown = F.max_pool2d(mask, kernel_size=pixels, stride=1, padding=padding)
    return grown[..., : mask.shape[-2], : mask.shape[-1]]


@node(
    "VAEEncodeForInpaint",
    display_name="VAE Encode (for Inpainting)",
    category="latent/inpaint",
    python_module="nodes",
    description="",
)
class VAEEncodeForInpaint(Node):
    """Encode an image for an inpainting checkpoint: masked pixels become 0.5 grey before encoding and the
    grown mask is returned as ``noise_mask``."""

    pixels: Image = Input()
    vae: Vae = Input()
    mask: Mask = Input()
    grow_mask_by: int = Input(6, min=0, max=64, step=1)

    def run(self, ctx: NodeContext) -> LatentOutput:
        from graphflow.imaging.vae import crop_to_multiple, encode

        _require(self.vae, "VAE Encode (for Inpainting)")
        ratio = self.vae.downscale_ratio
        height, width = self.pixels.shape[1], self.pixels.shape[2]
        mask = self.mask.reshape(-1, 1, self.mask.shape[-2], self.mask.shape[-1]).float()
        mask = F.interpolate(mask, size=(height, width), mode="bilinear", align_corners=False)
        pixels = crop_to_multiple(self.pixels[..., :3].clone(), ratio)
        top, left = (height % ratio) // 2, (width % ratio) // 2
        mask = mask[..., top : top + pixels.shape[1], left : left + pixels.shape[2]].round()
        keep = (1.0 - mask).movedim(1, -1)
        pixels = (pixels - 0.5) * keep + 0.5
        return LatentOutput(
            {"samples": encode(self.vae, pixels), "noise_mask": grow_mask(mask, self.grow_mask_by)}
        )
