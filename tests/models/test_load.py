"""Tiny non-standard models: export to one LDM file, load through the SD1.5 path, compare weights and outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from graphflow.models.errors import ModelFileError, UnsupportedModelError
from graphflow.models.export import export_ldm_checkpoint, ldm_state_dict
from graphflow.models.load import load_checkpoint, load_vae_file
from graphflow.models.state_dict import CheckpointFile

from .factories import randomize, tiny_clip, tiny_unet, tiny_vae


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


def _unet_out(unet: Any, context_dim: int, added: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
    gen = torch.Generator().manual_seed(7)
    sample = torch.randn(2, 4, 8, 8, generator=gen)
    context = torch.randn(2, 5, context_dim, generator=gen)
    with torch.no_grad():
        return unet(sample, torch.tensor([10, 500]), context, added_cond_kwargs=added).sample


def _vae_out(vae: Any) -> tuple[torch.Tensor, torch.Tensor]:
    image = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(3)) * 2 - 1
    with torch.no_grad():
        latent = vae.encode(image).latent_dist.mean
        return latent, vae.decode(latent).sample


def _clip_out(model: Any) -> torch.Tensor:
    ids = torch.tensor([[49406, 320, 1125, 539, 320, 2368, 49407] + [49407] * 70])
    with torch.no_grad():
        return model(ids, output_hidden_states=True).hidden_states[-2]


@pytest.fixture(scope="module")
def sd1_models() -> dict[str, Any]:
    return {
        "unet": randomize(tiny_unet(), seed=1),
        "vae": randomize(tiny_vae(), seed=2),
        "text_encoder": randomize(tiny_clip(), seed=3),
    }


@pytest.fixture(scope="module")
def sd1_file(tmp_path_factory: pytest.TempPathFactory, sd1_models: dict[str, Any]) -> Path:
    return export_ldm_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.safetensors", **sd1_models)


def test_tiny_sd1_round_trip_weights_and_outputs(sd1_file: Path, sd1_models: dict[str, Any]) -> None:
    model, clip, vae = load_checkpoint(sd1_file)
    assert model.family == "sd1" and clip is not None and vae is not None
    _same_weights(sd1_models["unet"], model.unet)
    _same_weights(sd1_models["vae"], vae.vae)
    _same_weights(sd1_models["text_encoder"], clip.parts[0].model)
    assert torch.equal(_unet_out(model.unet, 64), _unet_out(sd1_models["unet"], 64))
    for ours, theirs in zip(_vae_out(vae.vae), _vae_out(sd1_models["vae"]), strict=True):
        assert torch.equal(ours, theirs)
    assert torch.equal(_clip_out(clip.parts[0].model), _clip_out(sd1_models["text_encoder"]))


def test_tiny_sd1_handles(sd1_file: Path) -> None:
    model, clip, vae = load_checkpoint(sd1_file)
    assert vae is not None and clip is not None
    assert vae.downscale_ratio == 4 and vae.latent_channels == 4  # 3 levels
    assert model.latent_scale == 0.5  # from graphflow.latent_scale, not the SD default
    assert model.schedule.prediction_type == "epsilon"
    part = clip.parts[0]
    assert (part.name, part.pad_token_id, part.default_layer, part.final_layer_norm) == (
        "clip_l",
        49407,
        -1,
        True,
    )
    assert part.tokenizer("a photo of a cat").input_ids == [49406, 320, 1125, 539, 320, 2368, 49407]
    assert model.unet.config.attention_head_dim == [2, 4]  # from graphflow.unet_config metadata
    assert all(not p.requires_grad for p in model.unet.parameters())


def test_fp16_export_and_dtype_on_load(tmp_path: Path, sd1_models: dict[str, Any]) -> None:
    path = export_ldm_checkpoint(tmp_path / "half.safetensors", **sd1_models, dtype=torch.float16)
    assert set(CheckpointFile.open(path).dtypes.values()) == {"F16"}
    model, clip, vae = load_checkpoint(path, dtype=torch.float32, vae_dtype=torch.bfloat16)
    assert model.dtype == torch.float32 and vae is not None and vae.dtype == torch.bfloat16
    expected = sd1_models["unet"].state_dict()["conv_in.weight"].half().float()
    assert torch.equal(model.unet.state_dict()["conv_in.weight"], expected)


def test_without_metadata_family_defaults_apply(tmp_path: Path, sd1_models: dict[str, Any]) -> None:
    """Head and group counts are not in the weights: a bare file gets SD1's (8 heads, 32 groups)."""
    bare = export_ldm_checkpoint(tmp_path / "bare.safetensors", **sd1_models, describe=False)
    with pytest.raises(UnsupportedModelError, match="graphflow.vae_config") as err:
        load_checkpoint(bare)  # 32 groups cannot split the 16-channel VAE level
    assert "norm_num_groups" in str(err.value)
    unet_only = export_ldm_checkpoint(tmp_path / "unet.safetensors", unet=sd1_models["unet"], describe=False)
    model = load_checkpoint(unet_only).model
    assert (model.unet.config.attention_head_dim, model.unet.config.norm_num_groups) == (8, 32)


def test_tiny_sd2_openclip_layout_round_trip(tmp_path: Path) -> None:
    unet = randomize(tiny_unet(use_linear_projection=True), seed=4)
    clip = randomize(
        tiny_clip(with_projection=True, hidden_act="gelu", projection_dim=64, pad_token_id=0), seed=5
    )
    vae = randomize(tiny_vae(), seed=6)
    path = export_ldm_checkpoint(tmp_path / "sd2.safetensors", unet=unet, vae=vae, text_encoder=clip)
    shapes = CheckpointFile.open(path).shapes
    assert "cond_stage_model.model.transformer.resblocks.1.attn.in_proj_weight" in shapes
    assert shapes["cond_stage_model.model.text_projection"] == (64, 64)
    model, encoder, _ = load_checkpoint(path)
    assert model.family == "sd2" and encoder is not None
    part = encoder.parts[0]
    assert (part.name, part.pad_token_id, part.default_layer) == ("clip_h", 0, -2)
    assert part.tokenizer.pad_token_id == 0  # OpenCLIP pads with id 0
    theirs = {
        k.removeprefix("text_model."): v
        for k, v in clip.state_dict().items()
        if k != "text_projection.weight"
    }
    ours = part.model.state_dict()
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)
    assert torch.equal(_clip_out(part.model), _clip_out(clip))
    assert torch.equal(_unet_out(model.unet, 64), _unet_out(unet, 64))


def test_sd2_v_prediction_detected_from_weights(tmp_path: Path) -> None:
    unet = randomize(tiny_unet(use_linear_projection=True), seed=4)
    clip = tiny_clip(hidden_act="gelu")
    path_eps = export_ldm_checkpoint(tmp_path / "eps.safetensors", unet=unet, text_encoder=clip, family="sd2")
    with torch.no_grad():  # the last output block's first norm bias: ComfyUI's 768-v tell-tale
        unet.up_blocks[-1].attentions[-1].transformer_blocks[0].norm1.bias.normal_(0, 0.3)
    path_v = export_ldm_checkpoint(tmp_path / "v.safetensors", unet=unet, text_encoder=clip, family="sd2")
    assert load_checkpoint(path_eps).model.schedule.prediction_type == "epsilon"
    assert load_checkpoint(path_v).model.schedule.prediction_type == "v_prediction"


def test_tiny_sdxl_two_encoders_round_trip(tmp_path: Path) -> None:
    clip_l = randomize(tiny_clip(hidden_size=32, intermediate_size=64), seed=7)
    clip_g = randomize(
        tiny_clip(with_projection=True, hidden_act="gelu", projection_dim=48, pad_token_id=0), seed=8
    )
    unet = randomize(
        tiny_unet(
            cross_attention_dim=96,
            use_linear_projection=True,
            addition_embed_type="text_time",
            addition_time_embed_dim=8,
            projection_class_embeddings_input_dim=48 + 6 * 8,
            transformer_layers_per_block=[2, 1],
            down_block_types=["CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
            up_block_types=["CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
        ),
        seed=9,
    )
    path = export_ldm_checkpoint(
        tmp_path / "xl.safetensors", unet=unet, text_encoder=clip_l, text_encoder_2=clip_g
    )
    model, encoder, vae = load_checkpoint(path)
    assert model.family == "sdxl" and vae is None and encoder is not None
    assert [p.name for p in encoder.parts] == ["clip_l", "clip_g"]
    assert [p.pooled for p in encoder.parts] == [False, True]
    assert model.latent_scale == pytest.approx(0.13025)
    _same_weights(clip_l, encoder.parts[0].model)
    _same_weights(clip_g, encoder.parts[1].model)
    _same_weights(unet, model.unet)
    added = {"text_embeds": torch.randn(2, 48), "time_ids": torch.tensor([[64.0, 64, 0, 0, 64, 64]] * 2)}
    assert torch.equal(_unet_out(model.unet, 96, added), _unet_out(unet, 96, added))


def test_tensor_only_ckpt_loads(tmp_path: Path, sd1_models: dict[str, Any]) -> None:
    path = tmp_path / "plain.ckpt"
    state = {k: v.contiguous() for k, v in ldm_state_dict(**sd1_models).items()}
    metadata_path = export_ldm_checkpoint(tmp_path / "ref.safetensors", **sd1_models)
    torch.save({"state_dict": state, "global_step": 10}, path)
    # A pickle has no metadata, so the non-standard heads come from... nowhere: it must say so.
    with pytest.raises(UnsupportedModelError, match="metadata"):
        load_checkpoint(path)
    assert CheckpointFile.open(path).shapes == CheckpointFile.open(metadata_path).shapes


class _LightningCallbackState:
    """Stands in for an arbitrary object a training checkpoint pickles."""

    def __init__(self) -> None:
        self.best = 0.5


def test_pickled_objects_are_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "lightning.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(2)}, "callbacks": _LightningCallbackState()}, path)
    with pytest.raises(ModelFileError) as err:
        load_checkpoint(path)
    message = str(err.value)
    assert "lightning.ckpt" in message
    assert "weights_only=True" in message
    assert "_LightningCallbackState" in message
    assert "lightning.safetensors" in message  # how to convert


def test_garbage_and_truncated_files(tmp_path: Path, sd1_file: Path) -> None:
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"hello world, not a model")
    with pytest.raises(ModelFileError, match="not a model file"):
        load_checkpoint(junk)
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(sd1_file.read_bytes()[:2000])
    with pytest.raises(ModelFileError, match="junk|truncated|incomplete|cannot read"):
        load_checkpoint(cut)


def test_standalone_vae_files(tmp_path: Path, sd1_models: dict[str, Any]) -> None:
    ldm = {
        k.removeprefix("first_stage_model."): v.contiguous()
        for k, v in ldm_state_dict(vae=sd1_models["vae"]).items()
    }
    from safetensors.torch import save_file

    meta = {"graphflow.vae_config": json.dumps({"norm_num_groups": 8})}
    save_file(ldm, str(tmp_path / "ldm_vae.safetensors"), metadata=meta)
    save_file(sd1_models["vae"].state_dict(), str(tmp_path / "diffusers_vae.safetensors"), metadata=meta)
    for name in ("ldm_vae.safetensors", "diffusers_vae.safetensors"):
        vae = load_vae_file(tmp_path / name)
        assert vae.downscale_ratio == 4
        _same_weights(sd1_models["vae"], vae.vae)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network access during model loading")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_loading_never_asks_the_network(sd1_file: Path, no_network: None) -> None:
    model, _, _ = load_checkpoint(sd1_file)
    assert model.unet is not None


def _diffusers_folder(root: Path, models: dict[str, Any], tokenizer: bool) -> Path:
    index = {"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.42.1"}
    for name, library in (("unet", "diffusers"), ("vae", "diffusers"), ("text_encoder", "transformers")):
        models[name].save_pretrained(root / name)
        index[name] = [library, type(models[name]).__name__]
    (root / "scheduler").mkdir()
    (root / "scheduler" / "scheduler_config.json").write_text(
        json.dumps({"_class_name": "DDIMScheduler", "prediction_type": "v_prediction", "beta_end": 0.02})
    )
    if tokenizer:
        from graphflow.models.tokenizer import clip_tokenizer

        clip_tokenizer().save_pretrained(root / "tokenizer")
        index["tokenizer"] = ["transformers", "CLIPTokenizer"]
    (root / "model_index.json").write_text(json.dumps(index))
    return root


@pytest.mark.parametrize("with_tokenizer", [False, True])
def test_diffusers_folder(
    tmp_path: Path, sd1_models: dict[str, Any], with_tokenizer: bool, no_network: None
) -> None:
    from graphflow.models.diffusers_folder import load_diffusers_folder

    root = _diffusers_folder(tmp_path / "tiny-sd", sd1_models, with_tokenizer)
    model, clip, vae = load_diffusers_folder(root)
    assert model.family == "sd1" and clip is not None and vae is not None
    assert model.schedule.prediction_type == "v_prediction" and model.schedule.beta_end == 0.02
    assert model.latent_scale == 0.5 and vae.downscale_ratio == 4
    _same_weights(sd1_models["unet"], model.unet)
    _same_weights(sd1_models["text_encoder"], clip.parts[0].model)
    assert clip.parts[0].tokenizer("a photo of a cat").input_ids == [49406, 320, 1125, 539, 320, 2368, 49407]


def test_old_files_without_text_model_level(tmp_path: Path, sd1_models: dict[str, Any]) -> None:
    """Very old SD1 files store CLIP under cond_stage_model.transformer. (no text_model.), often with
    a position_ids buffer; both are handled."""
    from safetensors.torch import save_file

    source = CheckpointFile.open(export_ldm_checkpoint(tmp_path / "new.safetensors", **sd1_models))
    metadata = source.metadata
    tensors = {k.replace("transformer.text_model.", "transformer."): v for k, v in source.load().items()}
    tensors["cond_stage_model.transformer.embeddings.position_ids"] = torch.arange(77).unsqueeze(0)
    save_file(tensors, str(tmp_path / "old.safetensors"), metadata=metadata)
    _, clip, _ = load_checkpoint(tmp_path / "old.safetensors")
    assert clip is not None
    _same_weights(sd1_models["text_encoder"], clip.parts[0].model)
