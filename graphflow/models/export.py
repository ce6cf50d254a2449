"""Write diffusers/transformers models as one LDM-layout single-file ``.safetensors`` checkpoint.

The layout is what SD tools expect from a single file: ``model.diffusion_model.*`` (UNet),
``first_stage_model.*`` (VAE), and per family ``cond_stage_model.transformer.text_model.*`` (SD1 CLIP-L),
``cond_stage_model.model.*`` (SD2 OpenCLIP) or ``conditioner.embedders.{0,1}.*`` (SDXL). Works for any
number of channels and levels. Settings that shapes cannot carry (head counts, norm groups, latent scale,
activations) are written to ``__metadata__`` under the ``graphflow.*`` keys of
:mod:`graphflow.models.metadata`, so :func:`~graphflow.models.load.load_checkpoint` rebuilds the exact
models.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from graphflow.models import clip_layout
from graphflow.models import metadata as meta
from graphflow.models.handles import ModelFamily
from graphflow.models.ldm_names import VAE_CONV_ATTENTION, unet_ldm_names, vae_ldm_names

UNET_PREFIX = "model.diffusion_model."
VAE_PREFIX = "first_stage_model."
TEXT_PREFIXES: dict[str, tuple[tuple[str, str], ...]] = {
    # family -> ((prefix, layout) for text_encoder, then text_encoder_2)
    "sd1": (("cond_stage_model.transformer.", "hf"),),
    "sd2": (("cond_stage_model.model.", "openclip"),),
    "sdxl": (("conditioner.embedders.0.transformer.", "hf"), ("conditioner.embedders.1.model.", "openclip")),
}

_UNET_SETTINGS = (
    "attention_head_dim",
    "num_attention_heads",
    "norm_num_groups",
    "norm_eps",
    "act_fn",
    "upcast_attention",
    "flip_sin_to_cos",
    "freq_shift",
    "sample_size",
    "addition_time_embed_dim",
)
_VAE_SETTINGS = ("norm_num_groups", "act_fn", "sample_size", "force_upcast")
_CLIP_SETTINGS = ("num_attention_heads", "hidden_act", "layer_norm_eps")


def guess_family(unet: Any = None, text_encoder: Any = None, text_encoder_2: Any = None) -> ModelFamily:
    """SDXL when there are two encoders or added time conditioning; SD2 for an OpenCLIP-style (gelu)
    encoder; otherwise SD1."""
    if text_encoder_2 is not None or (
        unet is not None and unet.config.get("addition_embed_type") == "text_time"
    ):
        return "sdxl"
    if text_encoder is not None and text_encoder.config.hidden_act == "gelu":
        return "sd2"
    return "sd1"


def _unet_tensors(unet: Any) -> dict[str, torch.Tensor]:
    state = unet.state_dict()
    names = unet_ldm_names(state, int(unet.config.layers_per_block))
    return {UNET_PREFIX + names[k]: v for k, v in state.items()}


def _vae_tensors(vae: Any) -> dict[str, torch.Tensor]:
    state = vae.state_dict()
    names = vae_ldm_names(state, len(vae.config.block_out_channels))
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        ldm = names[key]
        if VAE_CONV_ATTENTION.search(ldm) and value.ndim == 2:
            value = value[:, :, None, None]  # LDM stores these as 1x1 convolutions
        out[VAE_PREFIX + ldm] = value
    return out


def _text_tensors(model: Any, prefix: str, layout: str) -> dict[str, torch.Tensor]:
    hf = clip_layout.from_model(model.state_dict())
    if layout == "openclip":
        return {prefix + k: v for k, v in clip_layout.hf_to_openclip(hf).items()}
    return {prefix + k: v for k, v in hf.items()}


def ldm_state_dict(
    *,
    unet: Any = None,
    vae: Any = None,
    text_encoder: Any = None,
    text_encoder_2: Any = None,
    family: ModelFamily | None = None,
) -> dict[str, torch.Tensor]:
    """The LDM-layout state dict of the given models (tensors are shared, not copied; meta models give
    meta tensors, which is how the tests build full-size shapes without memory)."""
    family = family or guess_family(unet, text_encoder, text_encoder_2)
    out: dict[str, torch.Tensor] = {}
    if unet is not None:
        out.update(_unet_tensors(unet))
    if vae is not None:
        out.update(_vae_tensors(vae))
    encoders = [m for m in (text_encoder, text_encoder_2) if m is not None]
    slots = TEXT_PREFIXES[family]
    if len(encoders) > len(slots):
        raise ValueError(f"family {family!r} has {len(slots)} text encoder(s), got {len(encoders)}")
    for model, (prefix, layout) in zip(encoders, slots, strict=False):
        out.update(_text_tensors(model, prefix, layout))
    return out


def _pick(config: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    out = {}
    for key in keys:
        value = config.get(key)
        if value is not None:
            out[key] = list(value) if isinstance(value, tuple) else value
    return out


def describe_models(
    *,
    unet: Any = None,
    vae: Any = None,
    text_encoder: Any = None,
    text_encoder_2: Any = None,
    family: ModelFamily,
) -> dict[str, str]:
    """The ``graphflow.*`` metadata that lets the loader rebuild exactly these models."""
    return meta.encode(
        family=family,
        latent_scale=None if vae is None else float(vae.config.scaling_factor),
        unet_config=None if unet is None else _pick(unet.config, _UNET_SETTINGS),
        vae_config=None if vae is None else _pick(vae.config, _VAE_SETTINGS),
        text_encoder_config=None
        if text_encoder is None
        else _pick(text_encoder.config.to_dict(), _CLIP_SETTINGS),
        text_encoder_2_config=None
        if text_encoder_2 is None
        else _pick(text_encoder_2.config.to_dict(), _CLIP_SETTINGS),
    )


def export_ldm_checkpoint(
    path: str | os.PathLike[str],
    *,
    unet: Any = None,
    vae: Any = None,
    text_encoder: Any = None,
    text_encoder_2: Any = None,
    family: ModelFamily | None = None,
    metadata: Mapping[str, str] | None = None,
    dtype: torch.dtype | None = None,
    describe: bool = True,
) -> Path:
    """Write the models to ``path`` as one LDM-layout ``.safetensors`` file.

    ``unet``: diffusers ``UNet2DConditionModel``; ``vae``: diffusers ``AutoencoderKL``; ``text_encoder`` /
    ``text_encoder_2``: transformers ``CLIPTextModel`` / ``CLIPTextModelWithProjection`` (SDXL's second
    must have the projection). ``family``: ``"sd1" | "sd2" | "sdxl"``, guessed by :func:`guess_family`
    when ``None``. ``metadata``: extra ``__metadata__`` strings; they override the generated ``graphflow.*``
    keys (pass e.g. ``{"graphflow.prediction_type": "v_prediction"}``). ``dtype``: cast floating-point
    weights (e.g. ``torch.float16``), default: keep. ``describe``: write the ``graphflow.*`` keys.
    """
    from safetensors.torch import save_file

    family = family or guess_family(unet, text_encoder, text_encoder_2)
    tensors = ldm_state_dict(
        unet=unet, vae=vae, text_encoder=text_encoder, text_encoder_2=text_encoder_2, family=family
    )
    if not tensors:
        raise ValueError("nothing to export: pass at least one of unet, vae, text_encoder")
    seen: set[int] = set()
    for key, value in tensors.items():
        value = value.detach()
        if dtype is not None and value.is_floating_point():
            value = value.to(dtype)
        value = value.contiguous()
        if value.untyped_storage().data_ptr() in seen:  # safetensors refuses tensors that share memory
            value = value.clone()
        seen.add(value.untyped_storage().data_ptr())
        tensors[key] = value
    header: dict[str, str] = {}
    if describe:
        header.update(
            describe_models(
                unet=unet, vae=vae, text_encoder=text_encoder, text_encoder_2=text_encoder_2, family=family
            )
        )
    header.update(metadata or {})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata=header)
    return path
