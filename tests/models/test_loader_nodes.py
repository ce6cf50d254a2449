"""Loader nodes run through the executor on a tiny exported checkpoint."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from graphflow.models.export import export_ldm_checkpoint

from .factories import randomize, tiny_clip, tiny_unet, tiny_vae


@pytest.fixture
def model_dirs(runtime):
    models = runtime.paths.models
    for kind in ("checkpoints", "loras", "vae"):
        (models / kind).mkdir(parents=True, exist_ok=True)
    unet, vae, clip = randomize(tiny_unet()), randomize(tiny_vae(), seed=1), randomize(tiny_clip(), seed=2)
    export_ldm_checkpoint(
        models / "checkpoints" / "tiny.safetensors", unet=unet, vae=vae, text_encoder=clip, family="sd1"
    )
    gen = torch.Generator().manual_seed(3)
    lora = {
        "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight": torch.randn(
            2, 64, generator=gen
        ),
        "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight": torch.randn(
            32, 2, generator=gen
        ),
        "lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight": torch.randn(
            2, 64, generator=gen
        ),
        "lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight": torch.randn(
            64, 2, generator=gen
        ),
    }
    save_file(lora, str(models / "loras" / "style.safetensors"))
    return models


def run(runtime, prompt):
    from graphflow.scheduler import Executor

    executor = Executor(runtime)
    graph, report = executor.validate(prompt)
    assert graph is not None, report.text_lines()
    return executor.execute(graph, keep_values=True)


def test_checkpoint_and_lora_loaders(runtime, model_dirs):
    info = runtime.registry.object_info(runtime)
    # the user's file, and the built-in demo checkpoint after the user's folders
    assert set(info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0]) == {
        "tiny.safetensors",
        "graphflow-demo.safetensors",
    }
    assert info["LoraLoader"]["input"]["required"]["lora_name"][0] == ["style.safetensors"]
    prompt = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny.safetensors"}},
        "2": {
            "class_type": "LoraLoader",
            "inputs": {
                "model": ["1", 0],
                "clip": ["1", 1],
                "lora_name": "style.safetensors",
                "strength_model": 0.5,
                "strength_clip": 1.0,
            },
        },
        "3": {"class_type": "PreviewAny", "inputs": {"source": ["2", 0]}},
        "4": {"class_type": "PreviewAny", "inputs": {"source": ["1", 2]}},
    }
    outcome = run(runtime, prompt)
    assert outcome.ok, outcome.error
    base_model, _, vae = (items[0] for items in outcome.values["1"])
    patched_model, patched_clip = (items[0] for items in outcome.values["2"])
    assert patched_model.unet is base_model.unet  # shared module, patch kept on the handle
    assert len(patched_model.patches) == 1 and patched_model.patches[0].strength == 0.5
    assert len(patched_clip.patches) == 1
    assert vae.downscale_ratio == 4  # the tiny VAE has three levels


def test_unknown_checkpoint_is_a_validation_error_listing_the_files(runtime, model_dirs):
    from graphflow.scheduler import Executor

    prompt = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "missing.safetensors"}},
        "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}},
    }
    _, report = Executor(runtime).validate(prompt)
    error = report.comfy_json()["node_errors"]["1"]["errors"][0]
    assert error["type"] == "value_not_in_list"
    assert "tiny.safetensors" in error["extra_info"]["fix"]
