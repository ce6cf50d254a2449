"""Recognise what a single-file checkpoint holds, from its key names and shapes (spec core-nodes §4).

Supported: SD1.x, SD2.x (epsilon or v-prediction) and SDXL base, plus smaller or larger models with the
same structure. Recognised and refused with a clear message: SDXL refiner, inpainting (9 input
channels), instruct-pix2pix (8), unCLIP/upscalers (class-embedding input), EDM models, and DiT families
(SD3, Flux, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

from graphflow.models import metadata as meta
from graphflow.models.errors import UnsupportedModelError
from graphflow.models.handles import ModelFamily, PredictionType
from graphflow.models.state_dict import Shapes

LDM_UNET_PREFIX = "model.diffusion_model."
VAE_PREFIX = "first_stage_model."
V_PRED_STD_THRESHOLD = 0.09
"""SD2.x 768-v is told from 512-base by the spread of one LayerNorm bias (ComfyUI's rule)."""

# (key probed under the UNet prefix or at the top level, architecture named in the error)
DIT_PROBES: tuple[tuple[str, str], ...] = (
    ("joint_blocks.0.context_block.attn.qkv.weight", "SD3 / MMDiT"),
    ("double_blocks.0.img_attn.norm.key_norm.scale", "Flux"),
    ("double_layers.0.attn.w1q.weight", "AuraFlow"),
    ("cap_embedder.1.weight", "Lumina 2"),
    ("adaln_single.emb.timestep_embedder.linear_1.weight", "PixArt / Sana"),
    ("blocks.0.self_attn.q.weight", "Wan"),
    ("transformer_blocks.0.scale_shift_table", "LTX-Video / PixArt"),
    ("x_embedder.proj.weight", "a diffusion transformer (DiT)"),
)


@dataclass(frozen=True)
class TextEncoderSlot:
    """Where one text encoder lives in the file. ``layout`` is ``"hf"`` or ``"openclip"``."""

    name: str  # "clip_l", "clip_h" or "clip_g": the part name used for patches and messages
    prefix: str
    layout: str


@dataclass(frozen=True)
class CheckpointInfo:
    """What :func:`detect_checkpoint` found."""

    family: ModelFamily
    prediction_type: PredictionType
    zero_terminal_snr: bool
    unet_prefix: str
    text_encoders: tuple[TextEncoderSlot, ...]
    vae_prefix: str | None


def unet_prefix(keys: list[str] | Mapping[str, object]) -> str:
    """The UNet key prefix: the most frequent of the known ones if it has more than 5 keys, else ``model.``."""
    candidates = ("model.diffusion_model.", "model.model.", "net.")
    counts = {p: sum(1 for k in keys if k.startswith(p)) for p in candidates}
    best = max(candidates, key=lambda p: counts[p])
    return best if counts[best] > 5 else "model."


def _has_prefix(shapes: Shapes, prefix: str) -> bool:
    return any(k.startswith(prefix) for k in shapes)


def text_encoder_slots(shapes: Shapes) -> tuple[TextEncoderSlot, ...]:
    """The text encoders present, in conditioning order."""
    slots: list[TextEncoderSlot] = []
    if _has_prefix(shapes, "cond_stage_model.transformer.text_model."):
        slots.append(TextEncoderSlot("clip_l", "cond_stage_model.transformer.text_model.", "hf"))
    elif _has_prefix(shapes, "cond_stage_model.transformer.embeddings."):
        slots.append(TextEncoderSlot("clip_l", "cond_stage_model.transformer.", "hf"))
    if _has_prefix(shapes, "cond_stage_model.model.transformer.resblocks."):
        slots.append(TextEncoderSlot("clip_h", "cond_stage_model.model.", "openclip"))
    if _has_prefix(shapes, "conditioner.embedders.0.transformer.text_model."):
        slots.append(TextEncoderSlot("clip_l", "conditioner.embedders.0.transformer.text_model.", "hf"))
    if _has_prefix(shapes, "conditioner.embedders.0.model.transformer.resblocks."):
        slots.append(TextEncoderSlot("clip_g", "conditioner.embedders.0.model.", "openclip"))
    if _has_prefix(shapes, "conditioner.embedders.1.model.transformer.resblocks."):
        slots.append(TextEncoderSlot("clip_g", "conditioner.embedders.1.model.", "openclip"))
    return tuple(slots)


def _refuse_non_unet(shapes: Shapes, prefix: str, name: str) -> None:
    for key, arch in DIT_PROBES:
        for probe in (prefix + key, key):
            if probe in shapes:
                raise UnsupportedModelError(
                    f"{name}: this is a {arch} checkpoint (found {probe!r}); graphflow runs only "
                    "UNet models (SD1.x, SD2.x, SDXL)."
                )
    probed = f"{prefix}input_blocks.0.0.weight"
    if any(k.startswith(("lora_", "lora.")) or ".lora_down." in k or ".lora_A." in k for k in shapes):
        raise UnsupportedModelError(
            f"{name}: this is a LoRA, not a checkpoint; put it in the 'loras' folder."
        )
    if _has_prefix(shapes, "encoder.down.") or _has_prefix(shapes, "encoder.down_blocks."):
        raise UnsupportedModelError(f"{name}: this is a VAE, not a checkpoint; put it in the 'vae' folder.")
    if "down_blocks.0.resnets.0.conv1.weight" in shapes:
        raise UnsupportedModelError(
            f"{name}: this is a diffusers-layout UNet file without text encoder or VAE; use the full "
            "diffusers folder (with model_index.json) in the 'diffusers' folder instead."
        )
    raise UnsupportedModelError(
        f"{name}: cannot tell what model this is: there is no UNet (probed {probed!r}) and none of the "
        f"known diffusion-transformer keys ({', '.join(k for k, _ in DIT_PROBES)})."
    )


def _refuse_unet_variants(shapes: Shapes, p: str, name: str, slots: tuple[TextEncoderSlot, ...]) -> None:
    conv_in = shapes[p + "input_blocks.0.0.weight"]
    in_channels = conv_in[1]
    out_channels = shapes.get(p + "out.2.weight", (4,))[0]
    probed = f"{p}input_blocks.0.0.weight has {in_channels} input channels"
    if in_channels == 9 and out_channels == 4:
        raise UnsupportedModelError(
            f"{name}: an inpainting model ({probed}); graphflow does not run these yet."
        )
    if in_channels == 8 and out_channels == 4:
        raise UnsupportedModelError(
            f"{name}: an instruct-pix2pix model ({probed}); graphflow does not run these yet."
        )
    if in_channels != out_channels:
        raise UnsupportedModelError(
            f"{name}: the UNet takes {in_channels} channels but returns {out_channels} ({p}out.2.weight); "
            "models with extra conditioning channels are not supported."
        )
    adm = shapes.get(p + "label_emb.0.0.weight")
    if adm is not None:
        if any(s.prefix == "conditioner.embedders.0.model." for s in slots) or adm[1] == 2560:
            raise UnsupportedModelError(
                f"{name}: an SDXL refiner ({p}label_emb.0.0.weight takes {adm[1]} features, text encoder "
                "at conditioner.embedders.0.model.); graphflow supports SDXL base only."
            )
        if any(s.prefix.startswith("cond_stage_model.") for s in slots):
            raise UnsupportedModelError(
                f"{name}: a UNet with a class-embedding input ({p}label_emb.0.0.weight) and an SD1/SD2 text "
                "encoder, e.g. unCLIP or an upscaler; not supported."
            )
    elif p + "label_emb.weight" in shapes:
        raise UnsupportedModelError(f"{name}: a class-conditioned UNet ({p}label_emb.weight); not supported.")
    for key in ("edm_mean", "edm_std", "edm_vpred.sigma_max"):
        if key in shapes:
            raise UnsupportedModelError(
                f"{name}: an EDM-parameterised model (top-level key {key!r}); not supported."
            )


def _context_dim(shapes: Shapes, p: str) -> int | None:
    for key, shape in shapes.items():
        if key.startswith(p) and key.endswith("transformer_blocks.0.attn2.to_k.weight"):
            return shape[1]
    return None


def _family(
    shapes: Shapes, p: str, slots: tuple[TextEncoderSlot, ...], metadata: Mapping[str, str]
) -> ModelFamily:
    chosen = meta.choice_value(metadata, meta.FAMILY, meta.FAMILIES)
    if chosen is not None:
        return chosen  # type: ignore[return-value]
    names = {s.name for s in slots}
    if p + "label_emb.0.0.weight" in shapes or names == {"clip_l", "clip_g"}:
        return "sdxl"
    if "clip_h" in names:
        return "sd2"
    if "clip_l" in names:
        return "sd1"
    context = _context_dim(shapes, p)
    return {1024: "sd2", 2048: "sdxl"}.get(context or 0, "sd1")  # type: ignore[return-value]


def _v_pred_probe_key(shapes: Shapes, p: str) -> str | None:
    """``output_blocks.11.1.transformer_blocks.0.norm1.bias`` for SD2.x: the last output block's."""
    best: tuple[int, str] | None = None
    for key in shapes:
        if key.startswith(p + "output_blocks.") and key.endswith(".1.transformer_blocks.0.norm1.bias"):
            index = int(key[len(p + "output_blocks.") :].split(".", 1)[0])
            if best is None or index > best[0]:
                best = (index, key)
    return None if best is None else best[1]


def _prediction_type(
    shapes: Shapes,
    p: str,
    family: ModelFamily,
    metadata: Mapping[str, str],
    read: Callable[[str], torch.Tensor] | None,
) -> PredictionType:
    chosen = meta.choice_value(metadata, meta.PREDICTION_TYPE, meta.PREDICTION_TYPES)
    if chosen is not None:
        return chosen  # type: ignore[return-value]
    if "v_pred" in shapes:
        return "v_prediction"
    if family == "sd2" and read is not None:
        key = _v_pred_probe_key(shapes, p)
        if key is not None:
            tensor = read(key)
            known = tensor.device.type != "meta" and tensor.numel() > 1
            if known and float(tensor.float().std()) > V_PRED_STD_THRESHOLD:
                return "v_prediction"
    return "epsilon"


def detect_checkpoint(
    shapes: Shapes,
    metadata: Mapping[str, str] | None = None,
    read: Callable[[str], torch.Tensor] | None = None,
    name: str = "checkpoint",
) -> CheckpointInfo:
    """Recognise a single-file checkpoint.

    ``shapes``: tensor name -> shape (see :func:`~graphflow.models.state_dict.shapes_of`).
    ``metadata``: the safetensors ``__metadata__`` (``graphflow.*`` keys override what is inferred).
    ``read``: reads one tensor by name; needed only for the SD2.x v-prediction rule (without it, or
    for meta tensors, SD2.x files without a ``v_pred`` key count as epsilon).
    ``name``: the file name used in error messages.
    """
    metadata = metadata or {}
    p = unet_prefix(shapes)
    if p + "input_blocks.0.0.weight" not in shapes:
        _refuse_non_unet(shapes, p, name)
    slots = text_encoder_slots(shapes)
    _refuse_unet_variants(shapes, p, name, slots)
    family = _family(shapes, p, slots, metadata)
    return CheckpointInfo(
        family=family,
        prediction_type=_prediction_type(shapes, p, family, metadata, read),
        zero_terminal_snr="ztsnr" in shapes,
        unet_prefix=p,
        text_encoders=slots,
        vae_prefix=VAE_PREFIX if _has_prefix(shapes, VAE_PREFIX) else None,
    )
