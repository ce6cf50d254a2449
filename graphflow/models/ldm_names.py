"""Names of diffusers UNet and VAE parameters in the original LDM (single-file) layout.

diffusers converts LDM names to its own (``diffusers.loaders.single_file_utils``); this module goes the
other way, for any number of levels and channels. It is used to write LDM checkpoints
(:mod:`graphflow.models.export`) and to match LDM-named LoRA keys to diffusers parameters
(:mod:`graphflow.models.lora`).

LDM UNet numbering, with ``L`` res blocks per level:

* ``input_blocks.0`` is ``conv_in``; level ``i``'s ``j``-th res block is ``input_blocks.{1 + i(L+1) + j}``
  (``.0`` the ResBlock, ``.1`` its transformer); the level's downsampler is ``input_blocks.{(i+1)(L+1)}.0.op``.
* ``middle_block.0`` / ``.2`` are res blocks, ``.1`` the transformer.
* up level ``i`` (deepest first) has ``L+1`` res blocks at ``output_blocks.{i(L+1) + j}``; its upsampler
  sits in the level's last output block, after the transformer if there is one (``.2.conv``) else ``.1.conv``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from graphflow.models.errors import UnsupportedModelError

_UNET_RESNET = (
    ("norm1.", "in_layers.0."),
    ("conv1.", "in_layers.2."),
    ("norm2.", "out_layers.0."),
    ("conv2.", "out_layers.3."),
    ("time_emb_proj.", "emb_layers.1."),
    ("conv_shortcut.", "skip_connection."),
)
_UNET_FIXED = (
    ("time_embedding.linear_1.", "time_embed.0."),
    ("time_embedding.linear_2.", "time_embed.2."),
    ("add_embedding.linear_1.", "label_emb.0.0."),
    ("add_embedding.linear_2.", "label_emb.0.2."),
    ("conv_in.", "input_blocks.0.0."),
    ("conv_norm_out.", "out.0."),
    ("conv_out.", "out.2."),
)
_UNET_BLOCK = re.compile(
    r"^(down_blocks|up_blocks)\.(\d+)\.(resnets|attentions|downsamplers|upsamplers)\.(\d+)\.(.+)$"
)
_UNET_MID = re.compile(r"^mid_block\.(resnets|attentions)\.(\d+)\.(.+)$")


def _rename_prefix(rest: str, table: tuple[tuple[str, str], ...]) -> str:
    for old, new in table:
        if rest.startswith(old):
            return new + rest[len(old) :]
    return rest


def unet_ldm_name(name: str, layers_per_block: int, up_levels_with_attention: frozenset[int]) -> str:
    """The LDM name (without ``model.diffusion_model.``) of a diffusers UNet parameter name."""
    for old, new in _UNET_FIXED:
        if name.startswith(old):
            return new + name[len(old) :]
    per_level = layers_per_block + 1
    match = _UNET_BLOCK.match(name)
    if match:
        side, level_text, kind, index_text, rest = match.groups()
        level, index = int(level_text), int(index_text)
        if side == "down_blocks":
            if kind == "downsamplers":
                return f"input_blocks.{(level + 1) * per_level}.0.op.{rest.removeprefix('conv.')}"
            block = 1 + level * per_level + index
        else:
            if kind == "upsamplers":
                slot = 2 if level in up_levels_with_attention else 1
                return f"output_blocks.{level * per_level + layers_per_block}.{slot}.{rest}"
            block = level * per_level + index
        if kind == "resnets":
            return f"{'input' if side == 'down_blocks' else 'output'}_blocks.{block}.0.{_rename_prefix(rest, _UNET_RESNET)}"
        return f"{'input' if side == 'down_blocks' else 'output'}_blocks.{block}.1.{rest}"
    match = _UNET_MID.match(name)
    if match:
        kind, index_text, rest = match.groups()
        if kind == "attentions":
            return f"middle_block.1.{rest}"
        return f"middle_block.{0 if index_text == '0' else 2}.{_rename_prefix(rest, _UNET_RESNET)}"
    raise UnsupportedModelError(f"UNet parameter {name!r} has no counterpart in the LDM single-file layout.")


def unet_ldm_names(names: Iterable[str], layers_per_block: int) -> dict[str, str]:
    """Map every diffusers UNet parameter name to its LDM name."""
    names = list(names)
    with_attention = frozenset(
        int(m.group(2))
        for n in names
        if (m := _UNET_BLOCK.match(n)) and m.group(1) == "up_blocks" and m.group(3) == "attentions"
    )
    return {name: unet_ldm_name(name, layers_per_block, with_attention) for name in names}


_VAE_ATTENTION = (
    ("group_norm.", "norm."),
    ("to_q.", "q."),
    ("to_k.", "k."),
    ("to_v.", "v."),
    ("to_out.0.", "proj_out."),
)
_VAE_BLOCK = re.compile(
    r"^(encoder|decoder)\.(down_blocks|up_blocks)\.(\d+)\.(resnets|downsamplers|upsamplers)\.(\d+)\.(.+)$"
)
_VAE_MID = re.compile(r"^(encoder|decoder)\.mid_block\.(resnets|attentions)\.(\d+)\.(.+)$")
VAE_CONV_ATTENTION = re.compile(r"mid\.attn_1\.(q|k|v|proj_out)\.weight$")
"""LDM VAE attention weights stored as 1x1 convolutions ([C, C, 1, 1]); diffusers uses Linear ([C, C])."""


def vae_ldm_name(name: str, num_levels: int) -> str:
    """The LDM name (without ``first_stage_model.``) of a diffusers ``AutoencoderKL`` parameter name."""
    for part in ("encoder", "decoder"):
        if name.startswith(f"{part}.conv_norm_out."):
            return f"{part}.norm_out." + name[len(part) + len(".conv_norm_out.") :]
    match = _VAE_BLOCK.match(name)
    if match:
        part, _side, level_text, kind, _index, rest = match.groups()
        level = int(level_text)
        ldm_level = level if part == "encoder" else num_levels - 1 - level
        ldm_side = "down" if part == "encoder" else "up"
        if kind == "resnets":
            rest = rest.replace("conv_shortcut.", "nin_shortcut.")
            return f"{part}.{ldm_side}.{ldm_level}.block.{_index}.{rest}"
        sampler = "downsample" if kind == "downsamplers" else "upsample"
        return f"{part}.{ldm_side}.{ldm_level}.{sampler}.{rest}"
    match = _VAE_MID.match(name)
    if match:
        part, kind, index_text, rest = match.groups()
        if kind == "resnets":
            return f"{part}.mid.block_{int(index_text) + 1}.{rest.replace('conv_shortcut.', 'nin_shortcut.')}"
        return f"{part}.mid.attn_1.{_rename_prefix(rest, _VAE_ATTENTION)}"
    return name  # conv_in, conv_out, quant_conv, post_quant_conv keep their names


def vae_ldm_names(names: Iterable[str], num_levels: int) -> dict[str, str]:
    """Map every diffusers VAE parameter name to its LDM name."""
    return {name: vae_ldm_name(name, num_levels) for name in names}
