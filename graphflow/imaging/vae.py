"""VAE encoding and decoding between IMAGE ``[B, H, W, C]`` (0..1) and raw latents ``[B, C, H/r, W/r]``.

Latents stay raw (the posterior mean, unscaled), as on ComfyUI's LATENT sockets. Images are cropped
(centred) to a multiple of the VAE's ``downscale_ratio`` before encoding. Work is done in chunks of
:data:`CHUNK` images to bound memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from graphflow.models.handles import Vae

CHUNK = 4


def crop_to_multiple(pixels: torch.Tensor, ratio: int) -> torch.Tensor:
    """Centre-crop ``[B, H, W, C]`` so H and W are multiples of ``ratio``."""
    height, width = pixels.shape[1], pixels.shape[2]
    new_h, new_w = (height // ratio) * ratio, (width // ratio) * ratio
    if (new_h, new_w) == (height, width):
        return pixels
    if new_h == 0 or new_w == 0:
        raise ValueError(f"the image ({width}x{height}) is smaller than the VAE's {ratio}-pixel block")
    top, left = (height % ratio) // 2, (width % ratio) // 2
    return pixels[:, top : top + new_h, left : left + new_w, :]


@torch.no_grad()
def encode(vae: Vae, pixels: torch.Tensor) -> torch.Tensor:
    """Raw latents (posterior mean) of ``pixels`` ``[B, H, W, C]``; only the first three channels are used."""
    pixels = crop_to_multiple(pixels[..., :3], vae.downscale_ratio)
    chunks = []
    for start in range(0, pixels.shape[0], CHUNK):
        x = pixels[start : start + CHUNK].movedim(-1, 1).to(vae.device, vae.dtype) * 2.0 - 1.0
        chunks.append(vae.vae.encode(x).latent_dist.mean.float().cpu())
    return torch.cat(chunks)


@torch.no_grad()
def decode(vae: Vae, latents: torch.Tensor) -> torch.Tensor:
    """Images ``[B, H, W, 3]`` in 0..1 from raw latents ``[B, C, h, w]`` (5-D video latents are flattened)."""
    if latents.ndim == 5:
        latents = latents.movedim(2, 1).reshape(-1, latents.shape[1], *latents.shape[-2:])
    chunks = []
    for start in range(0, latents.shape[0], CHUNK):
        z = latents[start : start + CHUNK].to(vae.device, vae.dtype)
        images = vae.vae.decode(z).sample.float()
        chunks.append(((images + 1.0) / 2.0).clamp(0.0, 1.0).movedim(1, -1).cpu())
    return torch.cat(chunks)
