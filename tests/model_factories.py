"""Tiny real diffusers/transformers models built from configs (no downloads), for model-loading tests."""

from __future__ import annotations

from typing import Any

import torch

# A 2-level UNet, 3-level VAE and 2-layer, 64-wide CLIP: non-standard sizes on the SD1 structure.
TINY_UNET: dict[str, Any] = {
    "sample_size": 8,
    "in_channels": 4,
    "out_channels": 4,
    "block_out_channels": [32, 64],
    "layers_per_block": 1,
    "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"],
    "cross_attention_dim": 64,
    "attention_head_dim": [2, 4],
    "norm_num_groups": 8,
}
TINY_VAE: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "block_out_channels": [16, 32, 32],
    "down_block_types": ["DownEncoderBlock2D"] * 3,
    "up_block_types": ["UpDecoderBlock2D"] * 3,
    "layers_per_block": 1,
    "latent_channels": 4,
    "norm_num_groups": 8,
    "scaling_factor": 0.5,
}
TINY_CLIP: dict[str, Any] = {
    "vocab_size": 49408,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "max_position_embeddings": 77,
    "hidden_act": "quick_gelu",
    "bos_token_id": 49406,
    "eos_token_id": 49407,
    "pad_token_id": 49407,
}


def seeded(seed: int = 0) -> None:
    torch.manual_seed(seed)


def randomize(module: torch.nn.Module, scale: float = 0.05, seed: int = 0) -> torch.nn.Module:
    """Fill every parameter with noise (default inits leave biases and norms at 0/1, hiding mistakes)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in module.parameters():
            param.copy_(torch.randn(param.shape, generator=gen) * scale)
    return module


def tiny_unet(**overrides: Any) -> Any:
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(**{**TINY_UNET, **overrides}).eval()


def tiny_vae(**overrides: Any) -> Any:
    from diffusers import AutoencoderKL

    return AutoencoderKL(**{**TINY_VAE, **overrides}).eval()


def tiny_clip(with_projection: bool = False, **overrides: Any) -> Any:
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = CLIPTextConfig(**{**TINY_CLIP, **overrides})
    cls = CLIPTextModelWithProjection if with_projection else CLIPTextModel
    return cls(config).eval()
