"""Build MODEL / CLIP / VAE handles from an LDM-layout single-file checkpoint, offline.

The path: read the header -> recognise the family (:mod:`~graphflow.models.detect`) -> infer the diffusers
and transformers configs from shapes (``infer_*``) -> read the tensors once, cast to the target dtype ->
rename them with diffusers' own converters (``convert_ldm_unet_checkpoint``, ``convert_ldm_vae_checkpoint``)
or :mod:`~graphflow.models.clip_layout` -> instantiate each model on the ``meta`` device and load the
tensors with ``assign=True``, so no memory is allocated or initialised twice. Nothing touches the network.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import torch

from graphflow.models import clip_layout, families
from graphflow.models import metadata as meta
from graphflow.models.detect import LDM_UNET_PREFIX, CheckpointInfo, TextEncoderSlot, detect_checkpoint
from graphflow.models.errors import ModelFileError, UnsupportedModelError
from graphflow.models.handles import DiffusionModel, ModelFamily, TextEncoder, Vae
from graphflow.models.infer_clip import infer_clip_config
from graphflow.models.infer_unet import infer_unet_config
from graphflow.models.infer_vae import downscale_ratio, infer_vae_config, is_diffusers_vae
from graphflow.models.offline import hub_offline
from graphflow.models.state_dict import CheckpointFile

TEXT_CONFIG_KEYS = (meta.TEXT_ENCODER_CONFIG, meta.TEXT_ENCODER_2_CONFIG)


class LoadedCheckpoint(NamedTuple):
    """What a checkpoint file yields; ``clip`` / ``vae`` are ``None`` when the file has none."""

    model: DiffusionModel
    clip: TextEncoder | None
    vae: Vae | None


def _on_meta(factory: Callable[[], Any]) -> Any:
    with torch.device("meta"):
        return factory()


def _assign(model: Any, state: Mapping[str, torch.Tensor], what: str, name: str, device: torch.device) -> Any:
    """Load ``state`` into a meta-device ``model`` by assignment; every parameter must be covered."""
    expected = set(model.state_dict())
    missing = sorted(expected - set(state))
    unexpected = sorted(set(state) - expected)
    if missing or unexpected:
        detail = []
        if missing:
            detail.append(f"missing {len(missing)} (e.g. {', '.join(missing[:3])})")
        if unexpected:
            detail.append(f"unexpected {len(unexpected)} (e.g. {', '.join(unexpected[:3])})")
        raise UnsupportedModelError(
            f"{name}: the {what} weights do not fit the architecture inferred from them: {'; '.join(detail)}."
        )
    model.load_state_dict(state, strict=True, assign=True)
    for module in model.modules():
        for buffer_name, buffer in list(module.named_buffers(recurse=False)):
            if buffer.device.type != "meta":
                continue
            if buffer_name != "position_ids":
                raise RuntimeError(f"{what}: buffer {buffer_name!r} was not initialised")
            module.register_buffer(
                buffer_name,
                torch.arange(buffer.shape[-1]).expand(tuple(buffer.shape)).clone(),
                persistent=False,
            )
    model.eval().requires_grad_(False)
    return model.to(device) if device.type != "cpu" else model


def build_unet(
    config: Mapping[str, Any], ldm_state: Mapping[str, torch.Tensor], name: str, device: torch.device
) -> Any:
    """A ``UNet2DConditionModel`` from LDM-named tensors (with the ``model.diffusion_model.`` prefix)."""
    from diffusers import UNet2DConditionModel
    from diffusers.loaders.single_file_utils import convert_ldm_unet_checkpoint

    converted = convert_ldm_unet_checkpoint(dict(ldm_state), dict(config))
    unet = _on_meta(lambda: UNet2DConditionModel.from_config(dict(config)))
    return _assign(unet, converted, "UNet", name, device)


def build_vae(
    config: Mapping[str, Any], state: Mapping[str, torch.Tensor], name: str, device: torch.device
) -> Any:
    """An ``AutoencoderKL`` from LDM-named (``first_stage_model.`` or no prefix) or diffusers-named tensors."""
    from diffusers import AutoencoderKL
    from diffusers.loaders.single_file_utils import convert_ldm_vae_checkpoint

    shapes = {k: tuple(v.shape) for k, v in state.items()}
    converted = (
        dict(state) if is_diffusers_vae(shapes) else convert_ldm_vae_checkpoint(dict(state), dict(config))
    )
    vae = _on_meta(lambda: AutoencoderKL.from_config(dict(config)))
    return _assign(vae, converted, "VAE", name, device)


def build_text_encoder(
    config: Mapping[str, Any],
    hf_state: Mapping[str, torch.Tensor],
    with_projection: bool,
    name: str,
    device: torch.device,
) -> Any:
    """A ``CLIPTextModel`` (or ``CLIPTextModelWithProjection``) from HF keys rooted at ``text_model.``."""
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    cls = CLIPTextModelWithProjection if with_projection else CLIPTextModel
    clip_config = CLIPTextConfig(**config)
    model = _on_meta(lambda: cls(clip_config))
    return _assign(model, clip_layout.for_model(hf_state, with_projection), "text encoder", name, device)


def _text_state(tensors: Mapping[str, torch.Tensor], slot: TextEncoderSlot) -> dict[str, torch.Tensor]:
    sub = {k[len(slot.prefix) :]: v for k, v in tensors.items() if k.startswith(slot.prefix)}
    return clip_layout.normalize_hf(sub) if slot.layout == "hf" else clip_layout.openclip_to_hf(sub)


def _component(key: str, info: CheckpointInfo) -> str | None:
    if key.startswith(info.unet_prefix):
        return "unet"
    if info.vae_prefix and key.startswith(info.vae_prefix):
        return "vae"
    if any(key.startswith(slot.prefix) for slot in info.text_encoders):
        return "text"
    return None


def _unet_dict(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """UNet tensors under the LDM prefix the converter expects."""
    return {LDM_UNET_PREFIX + k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def load_checkpoint(
    path: str | os.PathLike[str],
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
    vae_dtype: torch.dtype | None = None,
    info: CheckpointInfo | None = None,
) -> LoadedCheckpoint:
    """Load an SD1.x / SD2.x / SDXL (or same-structure) single-file checkpoint.

    ``dtype``: the dtype for the UNet and text encoders (``None``: as stored); ``vae_dtype``: for the VAE
    (default ``dtype``). ``info``: a detection result to reuse. Raises
    :class:`~graphflow.models.errors.ModelFileError` (unreadable / refused file) or
    :class:`~graphflow.models.errors.UnsupportedModelError` (an architecture graphflow does not run).
    """
    path = Path(path)
    name = path.name
    device = torch.device(device)
    ckpt = CheckpointFile.open(path)
    info = info or detect_checkpoint(ckpt.shapes, ckpt.metadata, ckpt.get, name)
    unet_config = infer_unet_config(ckpt.shapes, info.family, ckpt.metadata, info.unet_prefix, name)
    vae_config = None
    if info.vae_prefix:
        vae_config = infer_vae_config(ckpt.shapes, info.family, ckpt.metadata, info.vae_prefix, name)
    if len(info.text_encoders) > len(TEXT_CONFIG_KEYS):
        raise UnsupportedModelError(f"{name}: more text encoders than SDXL's two; not supported.")
    text_configs = [
        infer_clip_config(ckpt.shapes, slot.prefix, slot.layout, ckpt.metadata, key, name)
        for slot, key in zip(info.text_encoders, TEXT_CONFIG_KEYS, strict=False)
    ]

    vae_dtype = vae_dtype or dtype
    roles = {}
    for key in ckpt.shapes:
        component = _component(key, info)
        if component is not None:
            roles[key] = component
    tensors = ckpt.load(roles, dtype=lambda key: vae_dtype if roles[key] == "vae" else dtype)

    with hub_offline():
        unet = build_unet(unet_config, _unet_dict(tensors, info.unet_prefix), name, device)
        vae = None
        if vae_config is not None:
            vae_state = {k: v for k, v in tensors.items() if roles[k] == "vae"}
            vae = build_vae(vae_config, vae_state, name, device)
        parts = []
        for slot, config in zip(info.text_encoders, text_configs, strict=True):
            with_projection = slot.name == "clip_g"
            model = build_text_encoder(config, _text_state(tensors, slot), with_projection, name, device)
            parts.append(families.text_part(info.family, slot.name, model))
    del tensors

    latent_scale = meta.float_value(ckpt.metadata, meta.LATENT_SCALE)
    if latent_scale is None:
        latent_scale = (
            float(vae_config["scaling_factor"]) if vae_config else families.LATENT_SCALE[info.family]
        )
    source = str(path)
    model = DiffusionModel(
        unet=unet,
        family=info.family,
        schedule=families.noise_schedule(info.prediction_type, info.zero_terminal_snr, ckpt.metadata),
        latent_scale=latent_scale,
        source=source,
    )
    clip = TextEncoder(parts=tuple(parts), family=info.family, source=source) if parts else None
    vae_handle = None
    if vae is not None and vae_config is not None:
        vae_handle = Vae(vae, downscale_ratio(vae_config), int(vae_config["latent_channels"]), source)
    return LoadedCheckpoint(model, clip, vae_handle)


def load_vae_file(
    path: str | os.PathLike[str],
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
    family: ModelFamily = "sd1",
) -> Vae:
    """Load a standalone VAE file: LDM names (optionally under ``first_stage_model.``) or diffusers names."""
    path = Path(path)
    ckpt = CheckpointFile.open(path)
    prefix = "first_stage_model." if any(k.startswith("first_stage_model.") for k in ckpt.shapes) else ""
    if prefix == "" and any(k.startswith("model.diffusion_model.") for k in ckpt.shapes):
        raise ModelFileError(f"{path.name}: this is a full checkpoint; load it with Load Checkpoint.")
    config = infer_vae_config(ckpt.shapes, family, ckpt.metadata, prefix, path.name)
    keys = [k for k in ckpt.shapes if k.startswith(prefix)]
    tensors = ckpt.load(keys, dtype=dtype)
    state = {k[len(prefix) :]: v for k, v in tensors.items()}
    with hub_offline():
        vae = build_vae(config, state, path.name, torch.device(device))
    return Vae(vae, downscale_ratio(config), int(config["latent_channels"]), str(path))
