"""Load a diffusers-format model folder (``model_index.json`` with ``unet/``, ``vae/``, ``text_encoder/`` ...).

Every ``from_pretrained`` call is ``local_files_only=True`` inside :func:`~graphflow.models.offline.hub_offline`.
A folder without ``tokenizer/`` gets graphflow's shipped CLIP tokenizer.

One difference from single files: diffusers stores SD2's OpenCLIP encoder without its last layer and reads
the (new) last layer with the final LayerNorm, so for SD2 folders the default layer is -1, which gives the
same conditioning as a single file read at -2.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from graphflow.models import families
from graphflow.models.errors import ModelFileError, UnsupportedModelError
from graphflow.models.handles import DiffusionModel, ModelFamily, NoiseSchedule, TextEncoder, Vae
from graphflow.models.load import LoadedCheckpoint
from graphflow.models.offline import hub_offline

INDEX_FILE = "model_index.json"


def is_diffusers_folder(path: str | os.PathLike[str]) -> bool:
    return (Path(path) / INDEX_FILE).is_file()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: cannot read ({exc}).") from exc


def _variant(folder: Path) -> str | None:
    """``"fp16"`` when a component folder holds only ``*.fp16.*`` weight files."""
    files = (
        [p.name for p in folder.iterdir() if p.suffix in (".safetensors", ".bin")] if folder.is_dir() else []
    )
    if files and all(".fp16." in name for name in files):
        return "fp16"
    return None


def _family(index: dict[str, Any], unet_config: dict[str, Any], text_config: dict[str, Any]) -> ModelFamily:
    if "text_encoder_2" in index or unet_config.get("addition_embed_type") == "text_time":
        return "sdxl"
    if text_config.get("hidden_act") == "gelu" or unet_config.get("cross_attention_dim") == 1024:
        return "sd2"
    return "sd1"


def _schedule(root: Path) -> NoiseSchedule:
    config = _read_json(root / "scheduler" / "scheduler_config.json")
    fields = {
        k: config[k]
        for k in ("num_train_timesteps", "beta_start", "beta_end", "beta_schedule")
        if k in config
    }
    return NoiseSchedule(
        prediction_type=config.get("prediction_type", "epsilon"),
        zero_terminal_snr=bool(config.get("rescale_betas_zero_snr", False)),
        **fields,
    )


def _tokenizer(root: Path, subfolder: str) -> Any:
    folder = root / subfolder
    if not (folder / "vocab.json").is_file():
        return None
    from transformers import CLIPTokenizer

    return CLIPTokenizer.from_pretrained(str(folder), local_files_only=True)


def _load(cls: Any, root: Path, subfolder: str, dtype: torch.dtype | None, device: torch.device) -> Any:
    kwargs: dict[str, Any] = {"subfolder": subfolder, "local_files_only": True}
    if dtype is not None:
        kwargs["torch_dtype"] = dtype
    variant = _variant(root / subfolder)
    if variant:
        kwargs["variant"] = variant
    try:
        model = cls.from_pretrained(str(root), **kwargs)
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{root.name}/{subfolder}: cannot load ({exc}).") from exc
    model.eval().requires_grad_(False)
    return model.to(device) if device.type != "cpu" else model


def load_diffusers_folder(
    path: str | os.PathLike[str],
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
    vae_dtype: torch.dtype | None = None,
) -> LoadedCheckpoint:
    """Load the UNet, VAE and text encoder(s) of a diffusers SD1.x / SD2.x / SDXL folder."""
    root = Path(path)
    index = _read_json(root / INDEX_FILE)
    if not index:
        raise ModelFileError(f"{root}: not a diffusers model folder (no {INDEX_FILE}).")
    if "unet" not in index:
        raise UnsupportedModelError(
            f"{root.name}: the folder has no 'unet'; graphflow runs UNet models only."
        )
    if "text_encoder_2" in index and "text_encoder" not in index:
        raise UnsupportedModelError(f"{root.name}: an SDXL refiner; graphflow supports SDXL base only.")
    unet_config = _read_json(root / "unet" / "config.json")
    text_config = _read_json(root / "text_encoder" / "config.json")
    if unet_config.get("in_channels", 4) != unet_config.get("out_channels", 4):
        raise UnsupportedModelError(
            f"{root.name}: the UNet takes {unet_config.get('in_channels')} channels (inpainting or "
            "instruct-pix2pix); not supported."
        )
    family = _family(index, unet_config, text_config)
    device = torch.device(device)
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    with hub_offline():
        unet = _load(UNet2DConditionModel, root, "unet", dtype, device)
        vae = _load(AutoencoderKL, root, "vae", vae_dtype or dtype, device) if "vae" in index else None
        parts = []
        if "text_encoder" in index:
            model = _load(CLIPTextModel, root, "text_encoder", dtype, device)
            name = "clip_h" if family == "sd2" else "clip_l"
            overrides = {"default_layer": -1} if family == "sd2" else {}
            parts.append(families.text_part(family, name, model, _tokenizer(root, "tokenizer"), **overrides))
        if "text_encoder_2" in index:
            model = _load(CLIPTextModelWithProjection, root, "text_encoder_2", dtype, device)
            parts.append(families.text_part(family, "clip_g", model, _tokenizer(root, "tokenizer_2")))

    source = str(root)
    latent_scale = float(vae.config.scaling_factor) if vae is not None else families.LATENT_SCALE[family]
    model_handle = DiffusionModel(
        unet=unet, family=family, schedule=_schedule(root), latent_scale=latent_scale, source=source
    )
    clip = TextEncoder(parts=tuple(parts), family=family, source=source) if parts else None
    vae_handle = None
    if vae is not None:
        ratio = 2 ** (len(vae.config.block_out_channels) - 1)
        vae_handle = Vae(vae, ratio, int(vae.config.latent_channels), source)
    return LoadedCheckpoint(model_handle, clip, vae_handle)
