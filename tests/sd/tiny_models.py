"""Tiny, randomly initialised SD-shaped models (diffusers/transformers from small configs) wrapped in handles.

Shapes follow SD1.x and SDXL (4 latent channels, factor-8 VAE, CLIP with the real 49408-token vocabulary),
scaled down so a sampling step takes milliseconds. Weights come from a fixed torch seed.
"""

from __future__ import annotations

from functools import cache

import torch

from graphflow.models.handles import DiffusionModel, NoiseSchedule, TextEncoder, TextEncoderPart, Vae
from graphflow.models.tokenizer import END_TOKEN_ID, clip_tokenizer

SD1_LATENT_SCALE = 0.18215
SDXL_LATENT_SCALE = 0.13025


def clip_config(hidden: int = 32, layers: int = 3, projection: int = 32):
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        vocab_size=49408,
        max_position_embeddings=77,
        projection_dim=projection,
        hidden_act="quick_gelu",
    )


def unet_config(cross_attention_dim: int = 32, **extra) -> dict:
    return {
        "sample_size": 8,
        "in_channels": 4,
        "out_channels": 4,
        "down_block_types": ("CrossAttnDownBlock2D", "DownBlock2D"),
        "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D"),
        "block_out_channels": (32, 64),
        "layers_per_block": 1,
        "cross_attention_dim": cross_attention_dim,
        "attention_head_dim": 8,
        "norm_num_groups": 16,
        **extra,
    }


def vae_config() -> dict:
    return {
        "in_channels": 3,
        "out_channels": 3,
        "down_block_types": ("DownEncoderBlock2D",) * 4,
        "up_block_types": ("UpDecoderBlock2D",) * 4,
        "block_out_channels": (8, 16, 16, 16),
        "layers_per_block": 1,
        "latent_channels": 4,
        "norm_num_groups": 4,
        "sample_size": 64,
    }


def _seeded(seed: int, build):
    torch.manual_seed(seed)
    return build().eval().requires_grad_(False)


@cache
def sd1_parts():
    """(unet, vae, text_model) of the tiny SD1-shaped stack; shared, treat as read-only."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel

    unet = _seeded(0, lambda: UNet2DConditionModel(**unet_config()))
    vae = _seeded(1, lambda: AutoencoderKL(**vae_config()))
    text = _seeded(2, lambda: CLIPTextModel(clip_config()))
    return unet, vae, text


def sd1_model(**schedule) -> DiffusionModel:
    unet, _, _ = sd1_parts()
    return DiffusionModel(unet, "sd1", NoiseSchedule(**schedule), SD1_LATENT_SCALE, "tiny-sd1")


def sd1_clip(**options) -> TextEncoder:
    _, _, text = sd1_parts()
    part = TextEncoderPart(
        "clip_l", clip_tokenizer(), text, END_TOKEN_ID, final_layer_norm=True, default_layer=-1
    )
    return TextEncoder((part,), "sd1", "tiny-sd1", **options)


def sd1_vae() -> Vae:
    _, vae, _ = sd1_parts()
    return Vae(vae, downscale_ratio=8, latent_channels=4, source="tiny-sd1")


@cache
def sdxl_parts():
    """(unet, clip_l, clip_g) of a tiny SDXL-shaped stack (text_time ADM conditioning)."""
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    config = unet_config(
        cross_attention_dim=64,
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        projection_class_embeddings_input_dim=32 + 6 * 8,
    )
    unet = _seeded(3, lambda: UNet2DConditionModel(**config))
    clip_l = _seeded(4, lambda: CLIPTextModel(clip_config()))
    clip_g = _seeded(5, lambda: CLIPTextModelWithProjection(clip_config(projection=32)))
    return unet, clip_l, clip_g


def sdxl_model() -> DiffusionModel:
    unet, _, _ = sdxl_parts()
    return DiffusionModel(unet, "sdxl", NoiseSchedule(), SDXL_LATENT_SCALE, "tiny-sdxl")


def sdxl_clip(**options) -> TextEncoder:
    _, clip_l, clip_g = sdxl_parts()
    parts = (
        TextEncoderPart(
            "clip_l", clip_tokenizer(), clip_l, END_TOKEN_ID, final_layer_norm=False, default_layer=-2
        ),
        TextEncoderPart(
            "clip_g", clip_tokenizer("!"), clip_g, 0, final_layer_norm=False, default_layer=-2, pooled=True
        ),
    )
    return TextEncoder(parts, "sdxl", "tiny-sdxl", **options)
