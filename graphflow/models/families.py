"""Per-family conventions that are not stored in the weights (spec core-nodes §4.3-4.4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphflow.models import metadata as meta
from graphflow.models.handles import ModelFamily, NoiseSchedule, PredictionType, TextEncoderPart
from graphflow.models.tokenizer import END_TOKEN_ID, clip_tokenizer

LATENT_SCALE: dict[str, float] = {"sd1": 0.18215, "sd2": 0.18215, "sdxl": 0.13025}
OPENCLIP_PAD_TOKEN = "!"  # id 0: OpenCLIP encoders pad with token 0

# How the conditioning reads each encoder: by encoder, then SDXL's differences (spec core-nodes §4.3).
_BY_NAME: dict[str, dict[str, Any]] = {
    "clip_l": {"pad_token_id": END_TOKEN_ID, "final_layer_norm": True, "default_layer": -1, "pooled": False},
    "clip_h": {"pad_token_id": 0, "final_layer_norm": True, "default_layer": -2, "pooled": False},
    "clip_g": {"pad_token_id": 0, "final_layer_norm": False, "default_layer": -2, "pooled": True},
}
_FAMILY_OVERRIDES: dict[tuple[str, str], dict[str, Any]] = {
    ("sdxl", "clip_l"): {"final_layer_norm": False, "default_layer": -2},
}


def text_part(
    family: ModelFamily, name: str, model: Any, tokenizer: Any = None, **overrides: Any
) -> TextEncoderPart:
    """A :class:`TextEncoderPart` with the family's conventions; the shipped tokenizer unless one is given."""
    settings = {**_BY_NAME[name], **_FAMILY_OVERRIDES.get((family, name), {}), **overrides}
    if tokenizer is None:
        tokenizer = clip_tokenizer(
            "<|endoftext|>" if settings["pad_token_id"] == END_TOKEN_ID else OPENCLIP_PAD_TOKEN
        )
    return TextEncoderPart(name=name, tokenizer=tokenizer, model=model, **settings)


def noise_schedule(
    prediction_type: PredictionType,
    zero_terminal_snr: bool = False,
    metadata: Mapping[str, str] | None = None,
) -> NoiseSchedule:
    """SD's training schedule (1000 steps, scaled-linear betas 0.00085..0.012), overridable by metadata."""
    fields = {
        k: v
        for k, v in meta.json_value(metadata or {}, meta.NOISE_SCHEDULE).items()
        if k in meta.NOISE_SCHEDULE_FIELDS
    }
    return NoiseSchedule(prediction_type=prediction_type, zero_terminal_snr=zero_terminal_snr, **fields)
