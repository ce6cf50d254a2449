"""Family detection and config inference on full-size SD1.5 / SD2.1 / SDXL shapes (meta tensors only)."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from graphflow.models.detect import detect_checkpoint, unet_prefix
from graphflow.models.errors import UnsupportedModelError
from graphflow.models.export import ldm_state_dict
from graphflow.models.infer_clip import infer_clip_config
from graphflow.models.infer_unet import infer_unet_config
from graphflow.models.infer_vae import infer_vae_config
from graphflow.models.state_dict import shapes_of

from .factories import (
    CLIP_L,
    OPENCLIP_BIGG,
    OPENCLIP_H,
    SD15_UNET,
    SD21_UNET,
    SD_VAE,
    SDXL_UNET,
    SDXL_VAE,
    meta_models,
)

# Settings no weight shape can reveal; the tests below check the family defaults separately.
NOT_IN_WEIGHTS = {"sample_size", "upcast_attention", "_use_default_values"}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _model_config(cls_name: str, config: dict[str, Any]) -> dict[str, Any]:
    import diffusers

    with torch.device("meta"):
        model = getattr(diffusers, cls_name)(**config)
    return {k: _plain(v) for k, v in model.config.items() if k not in NOT_IN_WEIGHTS}


@pytest.fixture(scope="module")
def sd15() -> dict[str, Any]:
    models = meta_models(SD15_UNET, SD_VAE, [(CLIP_L, False)])
    return {"models": models, "shapes": shapes_of(ldm_state_dict(**models, family="sd1"))}


@pytest.fixture(scope="module")
def sd21() -> dict[str, Any]:
    models = meta_models(SD21_UNET, SD_VAE, [(OPENCLIP_H, True)])
    return {"models": models, "shapes": shapes_of(ldm_state_dict(**models, family="sd2"))}


@pytest.fixture(scope="module")
def sdxl() -> dict[str, Any]:
    models = meta_models(SDXL_UNET, SDXL_VAE, [(CLIP_L, False), (OPENCLIP_BIGG, True)])
    return {"models": models, "shapes": shapes_of(ldm_state_dict(**models, family="sdxl"))}


def test_sd15_keys_follow_the_ldm_layout(sd15: dict[str, Any]) -> None:
    shapes = sd15["shapes"]
    assert shapes["model.diffusion_model.input_blocks.0.0.weight"] == (320, 4, 3, 3)
    assert shapes["model.diffusion_model.middle_block.1.proj_in.weight"] == (1280, 1280, 1, 1)
    assert shapes["model.diffusion_model.output_blocks.2.1.conv.weight"] == (1280, 1280, 3, 3)
    assert shapes["first_stage_model.encoder.mid.attn_1.q.weight"] == (512, 512, 1, 1)
    assert shapes["cond_stage_model.transformer.text_model.embeddings.token_embedding.weight"] == (49408, 768)
    assert (
        len([k for k in shapes if k.startswith("model.diffusion_model.")]) == 686
    )  # as in the released file


@pytest.mark.parametrize(
    ("fixture", "family", "unet_ref", "vae_ref"),
    [
        ("sd15", "sd1", SD15_UNET, SD_VAE),
        ("sd21", "sd2", SD21_UNET, SD_VAE),
        ("sdxl", "sdxl", SDXL_UNET, SDXL_VAE),
    ],
)
def test_family_and_configs_match_the_real_ones(
    request: pytest.FixtureRequest,
    fixture: str,
    family: str,
    unet_ref: dict[str, Any],
    vae_ref: dict[str, Any],
) -> None:
    shapes = request.getfixturevalue(fixture)["shapes"]
    info = detect_checkpoint(shapes)
    assert info.family == family
    assert info.prediction_type == "epsilon"
    assert info.vae_prefix == "first_stage_model."

    unet_config = infer_unet_config(shapes, info.family)
    assert _model_config("UNet2DConditionModel", unet_config) == _model_config(
        "UNet2DConditionModel", unet_ref
    )
    assert unet_config["sample_size"] == unet_ref["sample_size"]

    vae_config = infer_vae_config(shapes, info.family)
    assert _model_config("AutoencoderKL", vae_config) == _model_config("AutoencoderKL", vae_ref)
    assert vae_config["scaling_factor"] == vae_ref["scaling_factor"]


def test_sd15_unet_config_values(sd15: dict[str, Any]) -> None:
    config = infer_unet_config(sd15["shapes"], "sd1")
    assert config["block_out_channels"] == [320, 640, 1280, 1280]
    assert config["attention_head_dim"] == 8
    assert config["use_linear_projection"] is False
    assert config["cross_attention_dim"] == 768
    assert config["down_block_types"][-1] == "DownBlock2D"
    assert "addition_embed_type" not in config


def test_sdxl_unet_config_values(sdxl: dict[str, Any]) -> None:
    config = infer_unet_config(sdxl["shapes"], "sdxl")
    assert config["transformer_layers_per_block"] == [1, 2, 10]
    assert config["attention_head_dim"] == [5, 10, 20]
    assert config["projection_class_embeddings_input_dim"] == 2816
    assert config["addition_embed_type"] == "text_time"
    assert "reverse_transformer_layers_per_block" not in config


@pytest.mark.parametrize(
    ("fixture", "index", "reference", "act"),
    [
        ("sd15", 0, CLIP_L, "quick_gelu"),
        ("sd21", 0, OPENCLIP_H, "gelu"),
        ("sdxl", 0, CLIP_L, "quick_gelu"),
        ("sdxl", 1, OPENCLIP_BIGG, "gelu"),
    ],
)
def test_text_encoder_configs(
    request: pytest.FixtureRequest, fixture: str, index: int, reference: dict[str, Any], act: str
) -> None:
    shapes = request.getfixturevalue(fixture)["shapes"]
    slot = detect_checkpoint(shapes).text_encoders[index]
    config = infer_clip_config(shapes, slot.prefix, slot.layout)
    for key in (
        "vocab_size",
        "hidden_size",
        "intermediate_size",
        "num_hidden_layers",
        "num_attention_heads",
        "max_position_embeddings",
    ):
        assert config[key] == reference[key], key
    assert config["hidden_act"] == act
    if slot.name == "clip_g":
        assert config["projection_dim"] == 1280


def test_text_encoder_slots(sd15: dict[str, Any], sd21: dict[str, Any], sdxl: dict[str, Any]) -> None:
    assert [(s.name, s.layout) for s in detect_checkpoint(sd15["shapes"]).text_encoders] == [("clip_l", "hf")]
    assert [(s.name, s.layout) for s in detect_checkpoint(sd21["shapes"]).text_encoders] == [
        ("clip_h", "openclip")
    ]
    assert [(s.name, s.prefix) for s in detect_checkpoint(sdxl["shapes"]).text_encoders] == [
        ("clip_l", "conditioner.embedders.0.transformer.text_model."),
        ("clip_g", "conditioner.embedders.1.model."),
    ]


def test_sd2_v_prediction_from_the_norm_bias_spread(sd21: dict[str, Any]) -> None:
    shapes = sd21["shapes"]
    probe = "model.diffusion_model.output_blocks.11.1.transformer_blocks.0.norm1.bias"
    assert probe in shapes
    gen = torch.Generator().manual_seed(0)
    wide = torch.randn(shapes[probe], generator=gen) * 0.2
    narrow = torch.randn(shapes[probe], generator=gen) * 0.01
    assert detect_checkpoint(shapes, read=lambda key: wide).prediction_type == "v_prediction"
    assert detect_checkpoint(shapes, read=lambda key: narrow).prediction_type == "epsilon"
    # Only SD2.x uses the rule: an SD1.x file with the same spread stays epsilon.
    assert (
        detect_checkpoint(
            {**shapes, **_sd1_text(shapes)}, metadata={"graphflow.family": "sd1"}, read=lambda k: wide
        ).prediction_type
        == "epsilon"
    )


def _sd1_text(shapes: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
    return {"cond_stage_model.transformer.text_model.embeddings.token_embedding.weight": (49408, 768)}


def test_v_pred_and_ztsnr_keys(sd15: dict[str, Any]) -> None:
    info = detect_checkpoint({**sd15["shapes"], "v_pred": (), "ztsnr": ()})
    assert info.prediction_type == "v_prediction"
    assert info.zero_terminal_snr is True


def test_metadata_overrides_family_and_prediction(sd15: dict[str, Any]) -> None:
    info = detect_checkpoint(
        sd15["shapes"], {"graphflow.family": "sd2", "graphflow.prediction_type": "v_prediction"}
    )
    assert (info.family, info.prediction_type) == ("sd2", "v_prediction")


def test_unet_prefix_rule() -> None:
    keys = [f"model.diffusion_model.k{i}" for i in range(6)] + [f"net.k{i}" for i in range(3)]
    assert unet_prefix(keys) == "model.diffusion_model."
    assert unet_prefix([f"net.k{i}" for i in range(7)]) == "net."
    assert unet_prefix([f"model.diffusion_model.k{i}" for i in range(5)]) == "model."


def _with_conv_in(shapes: dict[str, tuple[int, ...]], channels: int) -> dict[str, tuple[int, ...]]:
    return {**shapes, "model.diffusion_model.input_blocks.0.0.weight": (320, channels, 3, 3)}


@pytest.mark.parametrize(("channels", "words"), [(9, "inpainting"), (8, "instruct-pix2pix")])
def test_inpaint_and_pix2pix_are_refused_by_name(sd15: dict[str, Any], channels: int, words: str) -> None:
    with pytest.raises(UnsupportedModelError, match=words) as err:
        detect_checkpoint(_with_conv_in(sd15["shapes"], channels), name="x.safetensors")
    assert "input_blocks.0.0.weight" in str(err.value)


def test_sdxl_refiner_is_refused(sdxl: dict[str, Any]) -> None:
    shapes = {
        k.replace("conditioner.embedders.1.", "conditioner.embedders.0."): v
        for k, v in sdxl["shapes"].items()
        if not k.startswith("conditioner.embedders.0.")
    }
    shapes["model.diffusion_model.label_emb.0.0.weight"] = (1536, 2560)
    with pytest.raises(UnsupportedModelError, match="refiner"):
        detect_checkpoint(shapes)


@pytest.mark.parametrize(
    ("key", "arch"),
    [
        ("model.diffusion_model.joint_blocks.0.context_block.attn.qkv.weight", "SD3"),
        ("double_blocks.0.img_attn.norm.key_norm.scale", "Flux"),
        ("model.diffusion_model.double_blocks.0.img_attn.norm.key_norm.scale", "Flux"),
    ],
)
def test_dit_families_are_refused_naming_the_probed_key(key: str, arch: str) -> None:
    shapes = {key: (64,), **{f"model.diffusion_model.other{i}": (1,) for i in range(8)}}
    with pytest.raises(UnsupportedModelError, match=arch) as err:
        detect_checkpoint(shapes, name="dit.safetensors")
    assert key in str(err.value) and "dit.safetensors" in str(err.value)


def test_unknown_file_names_the_probed_keys() -> None:
    with pytest.raises(UnsupportedModelError, match=r"input_blocks\.0\.0\.weight"):
        detect_checkpoint({"something.weight": (3,)})


def test_lora_and_vae_files_are_pointed_to_their_folders() -> None:
    with pytest.raises(UnsupportedModelError, match="loras"):
        detect_checkpoint({"lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight": (4, 320)})
    with pytest.raises(UnsupportedModelError, match="'vae'"):
        detect_checkpoint({"encoder.down.0.block.0.conv1.weight": (128, 128, 3, 3)})
