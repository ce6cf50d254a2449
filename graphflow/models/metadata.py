"""The ``graphflow.*`` keys a checkpoint's safetensors ``__metadata__`` may carry.

Some settings cannot be read from tensor shapes: attention head counts, group-norm group counts, the
VAE latent scale, the prediction type. For SD1.x/SD2.x/SDXL they are fixed by the family; a checkpoint
of any other size (the project's tiny demo model, for one) states them here. :func:`export_ldm_checkpoint`
writes these keys; the loader reads them and lets them override the inferred values.

All values are strings (safetensors metadata is ``str -> str``); the ``*_config`` keys hold JSON objects
merged over the inferred diffusers/transformers config.

==============================  ==========================================================================
key                             value
==============================  ==========================================================================
``graphflow.format``            ``"1"``: the version of this key set
``graphflow.family``            ``"sd1" | "sd2" | "sdxl"``: which conditioning the model expects
``graphflow.prediction_type``   ``"epsilon" | "v_prediction"``
``graphflow.latent_scale``      float, e.g. ``"0.18215"``: the VAE latent scaling factor
``graphflow.noise_schedule``    JSON: ``{"num_train_timesteps", "beta_start", "beta_end", "beta_schedule"}``
``graphflow.unet_config``       JSON: diffusers ``UNet2DConditionModel`` settings, e.g.
                                ``{"attention_head_dim": [2, 4], "norm_num_groups": 8}``
``graphflow.vae_config``        JSON: diffusers ``AutoencoderKL`` settings, e.g. ``{"norm_num_groups": 8}``
``graphflow.text_encoder_config``    JSON: transformers ``CLIPTextConfig`` settings of the first (or only)
                                     text encoder, e.g. ``{"num_attention_heads": 2}``
``graphflow.text_encoder_2_config``  JSON: the same for SDXL's second text encoder (OpenCLIP bigG)
==============================  ==========================================================================
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from graphflow.models.errors import ModelFileError

FORMAT = "graphflow.format"
FAMILY = "graphflow.family"
PREDICTION_TYPE = "graphflow.prediction_type"
LATENT_SCALE = "graphflow.latent_scale"
NOISE_SCHEDULE = "graphflow.noise_schedule"
UNET_CONFIG = "graphflow.unet_config"
VAE_CONFIG = "graphflow.vae_config"
TEXT_ENCODER_CONFIG = "graphflow.text_encoder_config"
TEXT_ENCODER_2_CONFIG = "graphflow.text_encoder_2_config"

FORMAT_VERSION = "1"
FAMILIES = ("sd1", "sd2", "sdxl")
PREDICTION_TYPES = ("epsilon", "v_prediction")
NOISE_SCHEDULE_FIELDS = ("num_train_timesteps", "beta_start", "beta_end", "beta_schedule")


def json_value(metadata: Mapping[str, str], key: str) -> dict[str, Any]:
    """The JSON object stored under ``key`` (``{}`` when absent); a clear error when it is not JSON."""
    raw = metadata.get(key)
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"checkpoint metadata {key!r} is not valid JSON ({exc}).") from exc
    if not isinstance(value, dict):
        raise ModelFileError(
            f"checkpoint metadata {key!r} must be a JSON object, got {type(value).__name__}."
        )
    return value


def choice_value(metadata: Mapping[str, str], key: str, allowed: tuple[str, ...]) -> str | None:
    raw = metadata.get(key)
    if raw is None:
        return None
    if raw not in allowed:
        raise ModelFileError(f"checkpoint metadata {key!r} is {raw!r}; expected one of {', '.join(allowed)}.")
    return raw


def float_value(metadata: Mapping[str, str], key: str) -> float | None:
    raw = metadata.get(key)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ModelFileError(f"checkpoint metadata {key!r} is {raw!r}; expected a number.") from None


def encode(
    *,
    family: str | None = None,
    prediction_type: str | None = None,
    latent_scale: float | None = None,
    noise_schedule: Mapping[str, Any] | None = None,
    unet_config: Mapping[str, Any] | None = None,
    vae_config: Mapping[str, Any] | None = None,
    text_encoder_config: Mapping[str, Any] | None = None,
    text_encoder_2_config: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Build the ``graphflow.*`` metadata strings (``None`` arguments are left out)."""
    out = {FORMAT: FORMAT_VERSION}
    if family is not None:
        out[FAMILY] = family
    if prediction_type is not None:
        out[PREDICTION_TYPE] = prediction_type
    if latent_scale is not None:
        out[LATENT_SCALE] = repr(float(latent_scale))
    for key, value in (
        (NOISE_SCHEDULE, noise_schedule),
        (UNET_CONFIG, unet_config),
        (VAE_CONFIG, vae_config),
        (TEXT_ENCODER_CONFIG, text_encoder_config),
        (TEXT_ENCODER_2_CONFIG, text_encoder_2_config),
    ):
        if value:
            out[key] = json.dumps(dict(value), sort_keys=True)
    return out
