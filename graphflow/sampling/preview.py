"""Cheap live previews: a fixed linear map from the 4 SD latent channels to RGB, no VAE involved."""

from __future__ import annotations

from typing import Any

import torch

# Rough linear fit of SD1.x/SDXL latents (scaled) to RGB, rounded from the approximation Keturn published
# (2022). Rows: latent channels; columns: R, G, B.
LATENT_TO_RGB = torch.tensor(
    [
        [0.30, 0.21, 0.21],
        [0.19, 0.29, 0.17],
        [-0.16, 0.19, 0.26],
        [-0.18, -0.27, -0.47],
    ]
)
MAX_PREVIEW_SIZE = 512
MAX_UPSCALE = 8


def latent_preview(latent: torch.Tensor) -> Any | None:
    """A PIL image for a scaled latent ``[4, H, W]``, enlarged by a whole factor to at most 512 px; None for
    latents with another channel count."""
    from PIL import Image

    if latent.ndim != 3 or latent.shape[0] != LATENT_TO_RGB.shape[0]:
        return None
    rgb = torch.einsum("chw,cr->hwr", latent.float().cpu(), LATENT_TO_RGB)
    pixels = ((rgb + 1.0) * 127.5).clamp(0, 255).to(torch.uint8).numpy()
    image = Image.fromarray(pixels, "RGB")
    factor = max(1, min(MAX_UPSCALE, MAX_PREVIEW_SIZE // max(image.size)))
    if factor > 1:
        image = image.resize((image.width * factor, image.height * factor), Image.Resampling.BILINEAR)
    return image


def previews_enabled(runtime: Any, extra_data: dict[str, Any] | None) -> bool:
    """Whether this run wants previews (``extra_data.preview_method`` overrides the runtime setting)."""
    method = (extra_data or {}).get("preview_method") or getattr(runtime, "preview_method", "auto")
    return str(method) != "none"
