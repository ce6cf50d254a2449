"""The demo model's architecture: diffusers/transformers configs of a tiny model shaped like Stable Diffusion 1.

Shapes follow SD1's conventions so that a loader inferring the config from weight shapes gets it right:
an 8× VAE with four levels and 32 norm groups; a UNet with 8 attention heads per layer, convolutional
``proj_in`` and cross-attention on the CLIP width; a CLIP text model with 64-channel heads, ``quick_gelu``,
77 positions and the full 49,408-token vocabulary; SD1's noise schedule and latent scale 0.18215.
``diffusers``/``transformers`` are imported only inside the builder functions.
"""

from __future__ import annotations

import copy
from typing import Any

LATENT_SCALE = 0.18215
"""SD1's latent scale factor: raw VAE latents × this have roughly unit variance."""

TEXT_WIDTH = 64

VAE_CONFIG: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "block_out_channels": [64, 64, 64, 64],
    "layers_per_block": 1,
    "act_fn": "silu",
    "latent_channels": 4,
    "norm_num_groups": 32,
    "sample_size": 128,
    "scaling_factor": LATENT_SCALE,
    "mid_block_add_attention": True,
}

UNET_CONFIG: dict[str, Any] = {
    "sample_size": 16,
    "in_channels": 4,
    "out_channels": 4,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
    "block_out_channels": [64, 128, 128],
    "layers_per_block": 1,
    "norm_num_groups": 32,
    "cross_attention_dim": TEXT_WIDTH,
    # diffusers calls SD1's head count "attention_head_dim": 8 heads per attention layer.
    "attention_head_dim": 8,
    "use_linear_projection": False,
    "transformer_layers_per_block": 1,
    "act_fn": "silu",
    "flip_sin_to_cos": True,
    "freq_shift": 0,
}

TEXT_ENCODER_CONFIG: dict[str, Any] = {
    "vocab_size": 49408,
    "hidden_size": TEXT_WIDTH,
    "intermediate_size": 4 * TEXT_WIDTH,
    "num_hidden_layers": 3,
    "num_attention_heads": TEXT_WIDTH // 64,
    "max_position_embeddings": 77,
    "hidden_act": "quick_gelu",
    "projection_dim": TEXT_WIDTH,
    "bos_token_id": 49406,
    "eos_token_id": 49407,
    "pad_token_id": 49407,
}

SCHEDULER_CONFIG: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "prediction_type": "epsilon",
    "clip_sample": False,
    "set_alpha_to_one": False,
    "steps_offset": 1,
    "timestep_spacing": "leading",
}
"""SD1's noise schedule, in the form diffusers schedulers (DDPM, DDIM, Euler) accept."""


def demo_config() -> dict[str, Any]:
    """All four configs in one JSON-ready dict (stored in the checkpoint's ``__metadata__``)."""
    return copy.deepcopy(
        {
            "unet": UNET_CONFIG,
            "vae": VAE_CONFIG,
            "text_encoder": TEXT_ENCODER_CONFIG,
            "scheduler": SCHEDULER_CONFIG,
            "latent_scale": LATENT_SCALE,
            "image_size": VAE_CONFIG["sample_size"],
        }
    )


def build_vae(config: dict[str, Any] | None = None) -> Any:
    """A freshly initialised ``diffusers.AutoencoderKL`` (128 px image ↔ 4×16×16 latent)."""
    from diffusers import AutoencoderKL

    return AutoencoderKL(**(config or VAE_CONFIG))


def build_unet(config: dict[str, Any] | None = None) -> Any:
    """A freshly initialised ``diffusers.UNet2DConditionModel`` over 4×16×16 latents."""
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(**(config or UNET_CONFIG))


def build_text_encoder(config: dict[str, Any] | None = None) -> Any:
    """A freshly initialised ``transformers.CLIPTextModel`` (output ``[B, 77, 64]``)."""
    from transformers import CLIPTextConfig, CLIPTextModel

    return CLIPTextModel(CLIPTextConfig(**(config or TEXT_ENCODER_CONFIG)))
