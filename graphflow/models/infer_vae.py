"""The diffusers ``AutoencoderKL`` config of a VAE, read from tensor shapes (LDM or diffusers layout).

Shapes give the levels, their widths, res blocks per level, latent channels, whether the middle block has
attention, and whether quant convs exist. Group-norm groups (32) and the latent scale factor (0.18215 for
SD1.x/SD2.x, 0.13025 for SDXL) are not in the weights; ``graphflow.vae_config`` and
``graphflow.latent_scale`` metadata override them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from graphflow.models import metadata as meta
from graphflow.models.errors import UnsupportedModelError
from graphflow.models.handles import ModelFamily
from graphflow.models.state_dict import Shapes

DEFAULT_NORM_GROUPS = 32
LATENT_SCALE = {"sd1": 0.18215, "sd2": 0.18215, "sdxl": 0.13025}
SAMPLE_SIZE = {"sd1": 512, "sd2": 768, "sdxl": 1024}


def is_ldm_vae(shapes: Shapes, prefix: str = "") -> bool:
    return prefix + "encoder.down.0.block.0.conv1.weight" in shapes


def is_diffusers_vae(shapes: Shapes, prefix: str = "") -> bool:
    return prefix + "encoder.down_blocks.0.resnets.0.conv1.weight" in shapes


def _count(shapes: Shapes, pattern: str) -> int:
    regex = re.compile(pattern)
    return len({m.group(1) for k in shapes if (m := regex.match(k))})


def infer_vae_config(
    shapes: Shapes,
    family: ModelFamily = "sd1",
    metadata: Mapping[str, str] | None = None,
    prefix: str = "first_stage_model.",
    name: str = "VAE",
) -> dict[str, Any]:
    """Shapes of a VAE under ``prefix`` (LDM names, or diffusers names) -> ``AutoencoderKL`` config."""
    s = {k[len(prefix) :]: v for k, v in shapes.items() if k.startswith(prefix)}
    if is_ldm_vae(s):
        levels = _count(s, r"^encoder\.down\.(\d+)\.")
        layers = _count(s, r"^encoder\.down\.0\.block\.(\d+)\.")
        decoder_layers = _count(s, r"^decoder\.up\.0\.block\.(\d+)\.")
        channels = [s[f"encoder.down.{i}.block.{layers - 1}.conv2.weight"][0] for i in range(levels)]
        mid_attention = "encoder.mid.attn_1.q.weight" in s
    elif is_diffusers_vae(s):
        levels = _count(s, r"^encoder\.down_blocks\.(\d+)\.")
        layers = _count(s, r"^encoder\.down_blocks\.0\.resnets\.(\d+)\.")
        decoder_layers = _count(s, r"^decoder\.up_blocks\.0\.resnets\.(\d+)\.")
        channels = [s[f"encoder.down_blocks.{i}.resnets.{layers - 1}.conv2.weight"][0] for i in range(levels)]
        mid_attention = any(k.startswith("encoder.mid_block.attentions.0.") for k in s)
    else:
        raise UnsupportedModelError(
            f"{name}: no VAE found (probed {prefix}encoder.down.0.block.0.conv1.weight and "
            f"{prefix}encoder.down_blocks.0.resnets.0.conv1.weight)."
        )
    if decoder_layers != layers + 1:
        raise UnsupportedModelError(
            f"{name}: the decoder has {decoder_layers} res blocks per level and the encoder {layers}; "
            "diffusers' AutoencoderKL needs exactly one more in the decoder."
        )
    if "quant_conv.weight" in s:
        latent_channels = s["quant_conv.weight"][0] // 2
    else:
        latent_channels = s["encoder.conv_out.weight"][0] // 2
    config: dict[str, Any] = {
        "in_channels": s["encoder.conv_in.weight"][1],
        "out_channels": s["decoder.conv_out.weight"][0],
        "down_block_types": ["DownEncoderBlock2D"] * levels,
        "up_block_types": ["UpDecoderBlock2D"] * levels,
        "block_out_channels": channels,
        "layers_per_block": layers,
        "latent_channels": latent_channels,
        "norm_num_groups": DEFAULT_NORM_GROUPS,
        "sample_size": SAMPLE_SIZE[family],
        "scaling_factor": LATENT_SCALE[family],
        "use_quant_conv": "quant_conv.weight" in s,
        "use_post_quant_conv": "post_quant_conv.weight" in s,
        "mid_block_add_attention": mid_attention,
    }
    metadata = metadata or {}
    config.update(meta.json_value(metadata, meta.VAE_CONFIG))
    scale = meta.float_value(metadata, meta.LATENT_SCALE)
    if scale is not None:
        config["scaling_factor"] = scale
    groups = config["norm_num_groups"]
    if any(c % groups for c in config["block_out_channels"]):
        raise UnsupportedModelError(
            f"{name}: {groups} group-norm groups do not divide the VAE widths {config['block_out_channels']}. "
            f"Store the right count in the safetensors metadata: {meta.VAE_CONFIG} = '{{\"norm_num_groups\": N}}'."
        )
    return config


def downscale_ratio(config: Mapping[str, Any]) -> int:
    """Pixels per latent cell: the encoder halves the size at every level but the last."""
    return 2 ** (len(config["block_out_channels"]) - 1)
