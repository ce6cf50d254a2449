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


# Real Stable Diffusion configs, written down from the published diffusers/transformers config files.
SD15_UNET: dict[str, Any] = {
    "sample_size": 64,
    "in_channels": 4,
    "out_channels": 4,
    "down_block_types": [
        "CrossAttnDownBlock2D",
        "CrossAttnDownBlock2D",
        "CrossAttnDownBlock2D",
        "DownBlock2D",
    ],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
    "block_out_channels": [320, 640, 1280, 1280],
    "layers_per_block": 2,
    "cross_attention_dim": 768,
    "attention_head_dim": 8,
    "norm_num_groups": 32,
}
SD21_UNET: dict[str, Any] = {
    **SD15_UNET,
    "sample_size": 96,
    "cross_attention_dim": 1024,
    "attention_head_dim": [5, 10, 20, 20],
    "use_linear_projection": True,
    "upcast_attention": True,
}
SDXL_UNET: dict[str, Any] = {
    "sample_size": 128,
    "in_channels": 4,
    "out_channels": 4,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    "block_out_channels": [320, 640, 1280],
    "layers_per_block": 2,
    "cross_attention_dim": 2048,
    "attention_head_dim": [5, 10, 20],
    "transformer_layers_per_block": [1, 2, 10],
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 2816,
    "norm_num_groups": 32,
}
SD_VAE: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "block_out_channels": [128, 256, 512, 512],
    "layers_per_block": 2,
    "latent_channels": 4,
    "norm_num_groups": 32,
    "sample_size": 512,
    "scaling_factor": 0.18215,
}
SDXL_VAE: dict[str, Any] = {**SD_VAE, "sample_size": 1024, "scaling_factor": 0.13025}
CLIP_L: dict[str, Any] = {
    "vocab_size": 49408,
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "max_position_embeddings": 77,
    "hidden_act": "quick_gelu",
    "projection_dim": 768,
}
# OpenCLIP ViT-H/14 text tower as stored in SD2 single files (24 layers; diffusers drops the last one).
OPENCLIP_H: dict[str, Any] = {
    "vocab_size": 49408,
    "hidden_size": 1024,
    "intermediate_size": 4096,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "max_position_embeddings": 77,
    "hidden_act": "gelu",
    "projection_dim": 1024,
}
OPENCLIP_BIGG: dict[str, Any] = {
    "vocab_size": 49408,
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "num_hidden_layers": 32,
    "num_attention_heads": 20,
    "max_position_embeddings": 77,
    "hidden_act": "gelu",
    "projection_dim": 1280,
}


def meta_models(
    unet: dict[str, Any], vae: dict[str, Any], clips: list[tuple[dict[str, Any], bool]]
) -> dict[str, Any]:
    """Full-size models on the meta device (shapes only, no memory)."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    with torch.device("meta"):
        out: dict[str, Any] = {"unet": UNet2DConditionModel(**unet), "vae": AutoencoderKL(**vae)}
        for index, (config, projection) in enumerate(clips):
            cls = CLIPTextModelWithProjection if projection else CLIPTextModel
            out["text_encoder" if index == 0 else "text_encoder_2"] = cls(CLIPTextConfig(**config))
    return out


def write_random_safetensors(
    path: Any,
    shapes: dict[str, tuple[int, ...]],
    dtype: torch.dtype = torch.float16,
    seed: int = 0,
    std: float = 0.02,
) -> None:
    """Write a safetensors file of random tensors one at a time, so memory stays at one tensor.

    The format is an 8-byte little-endian header length, a JSON header (padded to 8 bytes) with each
    tensor's dtype, shape and byte range, then the raw little-endian data in header order. Values are
    cut from a 16 M-value pool of Gaussian noise at random offsets (generating 1 G fresh values would
    dominate the test's time).
    """
    import json
    import struct

    names = {torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32"}
    itemsize = torch.empty((), dtype=dtype).element_size()
    header: dict[str, Any] = {}
    offset = 0
    for key, shape in shapes.items():
        count = torch.Size(shape).numel()
        header[key] = {
            "dtype": names[dtype],
            "shape": list(shape),
            "data_offsets": [offset, offset + count * itemsize],
        }
        offset += count * itemsize
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    gen = torch.Generator().manual_seed(seed)
    pool = (torch.randn(1 << 24, generator=gen) * std).to(dtype)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(raw)))
        handle.write(raw)
        for shape in shapes.values():
            remaining = torch.Size(shape).numel()
            while remaining:
                start = int(torch.randint(0, pool.numel(), (1,), generator=gen))
                chunk = pool[start : start + remaining]
                handle.write(chunk.view(torch.uint8).numpy().tobytes())
                remaining -= chunk.numel()
