"""CLIP text-encoder weight layouts: Hugging Face (transformers) and OpenCLIP.

Single-file checkpoints store CLIP-L in the HF layout (``text_model.encoder.layers.N...``) and the OpenCLIP
encoders (SD2's ViT-H, SDXL's bigG) in the OpenCLIP layout (``transformer.resblocks.N...`` with q, k and v
stacked in one ``in_proj``). Everything here works on state dicts whose keys have had the checkpoint
prefix removed, and always produces HF keys rooted at ``text_model.`` (plus ``text_projection.weight``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch

# OpenCLIP names inside one residual block -> HF names inside one encoder layer.
_OPENCLIP_LAYER = (
    ("ln_1.", "layer_norm1."),
    ("ln_2.", "layer_norm2."),
    ("attn.out_proj.", "self_attn.out_proj."),
    ("mlp.c_fc.", "mlp.fc1."),
    ("mlp.c_proj.", "mlp.fc2."),
)
_OPENCLIP_TOP = (
    ("token_embedding.weight", "text_model.embeddings.token_embedding.weight"),
    ("positional_embedding", "text_model.embeddings.position_embedding.weight"),
    ("ln_final.weight", "text_model.final_layer_norm.weight"),
    ("ln_final.bias", "text_model.final_layer_norm.bias"),
)
_RESBLOCK = re.compile(r"^transformer\.resblocks\.(\d+)\.(.+)$")
_HF_LAYER = re.compile(r"^text_model\.encoder\.layers\.(\d+)\.(.+)$")
_QKV = ("q_proj", "k_proj", "v_proj")

# Keys some checkpoints carry that no text model uses.
IGNORED_OPENCLIP_KEYS = ("logit_scale", "attn_mask")
IGNORED_HF_SUFFIXES = ("embeddings.position_ids",)


def normalize_hf(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """HF-layout keys rooted at ``text_model.``; very old files omit that level (spec §4.1)."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        if key.endswith(IGNORED_HF_SUFFIXES):
            continue
        if key.startswith(("text_model.", "text_projection.")):
            out[key] = value
        else:
            out["text_model." + key] = value
    return out


def openclip_to_hf(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Convert an OpenCLIP text tower (prefix removed) to HF keys; splits ``in_proj`` into q, k, v and
    transposes ``text_projection`` ([width, proj] -> Linear weight [proj, width])."""
    out: dict[str, torch.Tensor] = {}
    top = dict(_OPENCLIP_TOP)
    for key, value in state_dict.items():
        if key in top:
            out[top[key]] = value
            continue
        if key == "text_projection":
            out["text_projection.weight"] = value.t().contiguous()
            continue
        match = _RESBLOCK.match(key)
        if not match:
            if key in IGNORED_OPENCLIP_KEYS or key.startswith("visual."):  # the image tower is unused
                continue
            out[key] = value  # left for the strict load to report
            continue
        layer, rest = match.groups()
        base = f"text_model.encoder.layers.{layer}."
        if rest in ("attn.in_proj_weight", "attn.in_proj_bias"):
            suffix = "weight" if rest.endswith("weight") else "bias"
            for name, chunk in zip(_QKV, value.chunk(3, dim=0), strict=True):
                out[f"{base}self_attn.{name}.{suffix}"] = chunk
            continue
        for old, new in _OPENCLIP_LAYER:
            if rest.startswith(old):
                rest = new + rest[len(old) :]
                break
        out[base + rest] = value
    return out


def hf_to_openclip(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Inverse of :func:`openclip_to_hf` (keys rooted at ``text_model.``)."""
    out: dict[str, torch.Tensor] = {}
    top = {hf: oc for oc, hf in _OPENCLIP_TOP}
    pending: dict[tuple[str, str], dict[str, torch.Tensor]] = {}
    for key, value in state_dict.items():
        if key in top:
            out[top[key]] = value
            continue
        if key == "text_projection.weight":
            out["text_projection"] = value.t().contiguous()
            continue
        match = _HF_LAYER.match(key)
        if not match:
            raise ValueError(f"text encoder parameter {key!r} has no OpenCLIP counterpart")
        layer, rest = match.groups()
        base = f"transformer.resblocks.{layer}."
        qkv = re.match(r"self_attn\.(q_proj|k_proj|v_proj)\.(weight|bias)$", rest)
        if qkv:
            pending.setdefault((base, qkv.group(2)), {})[qkv.group(1)] = value
            continue
        for oc, hf in _OPENCLIP_LAYER:
            if rest.startswith(hf):
                rest = oc + rest[len(hf) :]
                break
        out[base + rest] = value
    for (base, suffix), parts in pending.items():
        out[f"{base}attn.in_proj_{suffix}"] = torch.cat([parts[name] for name in _QKV], dim=0)
    return out


def for_model(state_dict: Mapping[str, torch.Tensor], with_projection: bool) -> dict[str, torch.Tensor]:
    """Adapt HF keys to the module: transformers 5's ``CLIPTextModel`` has no ``text_model.`` level,
    ``CLIPTextModelWithProjection`` keeps it."""
    if with_projection:
        return dict(state_dict)
    return {k.removeprefix("text_model."): v for k, v in state_dict.items() if k != "text_projection.weight"}


def from_model(model_state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """HF keys rooted at ``text_model.`` from either CLIP text model class's ``state_dict()``."""
    return normalize_hf(model_state)
