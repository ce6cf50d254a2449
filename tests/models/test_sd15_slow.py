"""A full-size SD1.5-shaped random checkpoint (fp16, real key names and shapes) loads like the real one."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from graphflow.models.export import ldm_state_dict
from graphflow.models.load import load_checkpoint
from graphflow.models.state_dict import shapes_of

from .factories import CLIP_L, SD15_UNET, SD_VAE, meta_models, write_random_safetensors


@pytest.mark.slow
def test_sd15_shaped_checkpoint_loads(tmp_path: Path) -> None:
    shapes = shapes_of(ldm_state_dict(**meta_models(SD15_UNET, SD_VAE, [(CLIP_L, False)]), family="sd1"))
    path = tmp_path / "sd15-random.safetensors"
    write_random_safetensors(path, shapes, torch.float16)  # ~2.1 GB, written one tensor at a time

    model, clip, vae = load_checkpoint(path, dtype=torch.float16)
    assert model.family == "sd1" and clip is not None and vae is not None
    assert list(model.unet.config.block_out_channels) == [320, 640, 1280, 1280]
    assert model.unet.config.attention_head_dim == 8
    assert model.latent_scale == pytest.approx(0.18215) and vae.downscale_ratio == 8
    assert clip.parts[0].model.config.num_hidden_layers == 12
    parameters = sum(p.numel() for m in (model.unet, vae.vae, clip.parts[0].model) for p in m.parameters())
    assert parameters == sum(torch.Size(s).numel() for s in shapes.values())
    assert model.dtype == torch.float16

    with safe_open(str(path), framework="pt") as handle:
        pairs = (
            (
                "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight",
                model.unet.down_blocks[0].attentions[0].transformer_blocks[0].attn2.to_k.weight,
            ),
            (
                "model.diffusion_model.output_blocks.11.0.skip_connection.weight",
                model.unet.up_blocks[3].resnets[2].conv_shortcut.weight,
            ),
            (
                "first_stage_model.decoder.up.0.block.2.conv2.weight",
                vae.vae.decoder.up_blocks[3].resnets[2].conv2.weight,
            ),
            (
                "first_stage_model.encoder.mid.attn_1.q.weight",
                vae.vae.encoder.mid_block.attentions[0].to_q.weight,
            ),
            (
                "cond_stage_model.transformer.text_model.encoder.layers.11.mlp.fc2.weight",
                clip.parts[0].model.encoder.layers[11].mlp.fc2.weight,
            ),
        )
        for key, param in pairs:
            assert torch.equal(handle.get_tensor(key).reshape(param.shape), param), key
