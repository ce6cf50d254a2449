"""The diffusers ``UNet2DConditionModel`` config of an LDM-layout UNet, read from tensor shapes.

Walks ``input_blocks`` / ``middle_block`` / ``output_blocks`` (spec core-nodes §4.2). Shapes give channels,
levels, res blocks per level, transformer depths, the cross-attention width, linear vs. conv projections
and the SDXL added-conditioning width. They do not give the attention head count or the number of
group-norm groups: the family fixes them (SD1.x: 8 heads everywhere; SD2.x/SDXL: 64-channel heads; 32
groups), and a ``graphflow.unet_config`` metadata entry overrides them for other models.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphflow.models import metadata as meta
from graphflow.models.errors import UnsupportedModelError
from graphflow.models.handles import ModelFamily
from graphflow.models.state_dict import Shapes

SD1_HEADS = 8
HEAD_CHANNELS = 64  # SD2.x and SDXL
DEFAULT_NORM_GROUPS = 32
SDXL_TIME_EMBED_DIM = 256  # each of the six size/crop numbers becomes a 256-wide sinusoid
SAMPLE_SIZE = {"sd1": 64, "sd2": 96, "sdxl": 128}

_TRANSFORMER = re.compile(r"^(input_blocks|output_blocks)\.(\d+)\.1\.transformer_blocks\.(\d+)\.")
_MID_TRANSFORMER = re.compile(r"^middle_block\.1\.transformer_blocks\.(\d+)\.")


@dataclass
class _Level:
    channels: list[int] = field(default_factory=list)  # output channels of each res block
    depths: list[int] = field(default_factory=list)  # transformer depth after each res block (0 = none)


@dataclass(frozen=True)
class UnetLayout:
    """The structure found by walking an LDM UNet's keys."""

    in_channels: int
    out_channels: int
    model_channels: int
    down: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]  # per level: (res channels, depths)
    up: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]  # per up level, deepest first
    mid_depth: int  # -1: middle block without attention; -2: no middle block
    context_dim: int | None
    use_linear: bool
    adm_in_channels: int | None
    time_embed_dim: int
    conv_in_kernel: int
    conv_out_kernel: int


def _strip(shapes: Shapes, prefix: str) -> Shapes:
    return {k[len(prefix) :]: v for k, v in shapes.items() if k.startswith(prefix)}


def read_unet_layout(shapes: Shapes, prefix: str = "model.diffusion_model.") -> UnetLayout:
    """Walk the UNet's blocks. ``prefix`` is removed from the keys first."""
    s = _strip(shapes, prefix)
    depth_sets: dict[tuple[str, int], set[int]] = defaultdict(set)
    mid_blocks: set[int] = set()
    for key in s:
        m = _TRANSFORMER.match(key)
        if m:
            depth_sets[(m.group(1), int(m.group(2)))].add(int(m.group(3)))
        m = _MID_TRANSFORMER.match(key)
        if m:
            mid_blocks.add(int(m.group(1)))

    conv_in = s["input_blocks.0.0.weight"]
    model_channels = conv_in[0]

    down: list[_Level] = [_Level()]
    n = 1
    while f"input_blocks.{n}.0.op.weight" in s or f"input_blocks.{n}.0.in_layers.0.weight" in s:
        if f"input_blocks.{n}.0.op.weight" in s:
            down.append(_Level())
        else:
            down[-1].channels.append(s[f"input_blocks.{n}.0.out_layers.3.weight"][0])
            down[-1].depths.append(len(depth_sets.get(("input_blocks", n), ())))
        n += 1

    up: list[_Level] = [_Level()]
    n = 0
    while f"output_blocks.{n}.0.in_layers.0.weight" in s:
        up[-1].channels.append(s[f"output_blocks.{n}.0.out_layers.3.weight"][0])
        up[-1].depths.append(len(depth_sets.get(("output_blocks", n), ())))
        if f"output_blocks.{n}.1.conv.weight" in s or f"output_blocks.{n}.2.conv.weight" in s:
            up.append(_Level())
        n += 1
    if not up[-1].channels:
        up.pop()

    if mid_blocks:
        mid_depth = len(mid_blocks)
    elif "middle_block.0.in_layers.0.weight" in s:
        mid_depth = -1
    else:
        mid_depth = -2

    context_dim = None
    use_linear = False
    for key, shape in s.items():
        if key.endswith("transformer_blocks.0.attn2.to_k.weight") and context_dim is None:
            context_dim = shape[1]
        if key.endswith(".proj_in.weight"):
            use_linear = len(shape) == 2
    adm = s.get("label_emb.0.0.weight")
    return UnetLayout(
        in_channels=conv_in[1],
        out_channels=s.get("out.2.weight", (4,))[0],
        model_channels=model_channels,
        down=tuple((tuple(lv.channels), tuple(lv.depths)) for lv in down),
        up=tuple((tuple(lv.channels), tuple(lv.depths)) for lv in up),
        mid_depth=mid_depth,
        context_dim=context_dim,
        use_linear=use_linear,
        adm_in_channels=None if adm is None else adm[1],
        time_embed_dim=s["time_embed.0.weight"][0],
        conv_in_kernel=conv_in[-1],
        conv_out_kernel=s.get("out.2.weight", (0, 0, 3))[-1],
    )


def _uniform(values: tuple[int, ...], what: str, name: str) -> int:
    if len(set(values)) != 1:
        raise UnsupportedModelError(
            f"{name}: {what} differ within one UNet level ({list(values)}); not supported."
        )
    return values[0]


def _family_heads(family: ModelFamily, channels: list[int]) -> int | list[int]:
    if family == "sd1":
        return SD1_HEADS
    return [c // HEAD_CHANNELS for c in channels]


def unet_config_from_layout(
    layout: UnetLayout,
    family: ModelFamily,
    metadata: Mapping[str, str] | None = None,
    name: str = "checkpoint",
) -> dict[str, Any]:
    """The diffusers config for ``layout``; ``graphflow.unet_config`` metadata is merged over it."""
    if layout.mid_depth < 1:
        raise UnsupportedModelError(f"{name}: UNets without attention in the middle block are not supported.")
    if not layout.down or not layout.down[0][0]:
        raise UnsupportedModelError(f"{name}: the UNet has no res blocks under input_blocks.")
    layers = {len(ch) for ch, _ in layout.down}
    if len(layers) != 1:
        raise UnsupportedModelError(
            f"{name}: UNet levels have different numbers of res blocks ({sorted(layers)})."
        )
    layers_per_block = layers.pop()
    if len(layout.up) != len(layout.down) or any(len(ch) != layers_per_block + 1 for ch, _ in layout.up):
        raise UnsupportedModelError(
            f"{name}: the UNet's output blocks do not mirror its input blocks "
            f"({len(layout.down)} levels x {layers_per_block} down, up levels {[len(c) for c, _ in layout.up]})."
        )

    channels = [_uniform(ch, "res-block widths", name) for ch, _ in layout.down]
    down_depths = [_uniform(d, "transformer depths", name) for _, d in layout.down]
    up_depths = [_uniform(d, "transformer depths", name) for _, d in layout.up]
    # diffusers reads the middle block's depth (and heads) from the deepest level's entry.
    if down_depths[-1] not in (0, layout.mid_depth):
        raise UnsupportedModelError(
            f"{name}: the middle block's transformer depth differs from the deepest level's."
        )
    depth_list = [d if d else 1 for d in down_depths]
    depth_list[-1] = layout.mid_depth
    up_expected = list(reversed(depth_list))
    reverse_depths = None
    if any(d and d != e for d, e in zip(up_depths, up_expected, strict=True)):
        reverse_depths = [d if d else e for d, e in zip(up_depths, up_expected, strict=True)]

    config: dict[str, Any] = {
        "sample_size": SAMPLE_SIZE[family],
        "in_channels": layout.in_channels,
        "out_channels": layout.out_channels,
        "down_block_types": ["CrossAttnDownBlock2D" if d else "DownBlock2D" for d in down_depths],
        "mid_block_type": "UNetMidBlock2DCrossAttn",
        "up_block_types": ["CrossAttnUpBlock2D" if d else "UpBlock2D" for d in up_depths],
        "block_out_channels": channels,
        "layers_per_block": layers_per_block,
        "cross_attention_dim": layout.context_dim,
        "transformer_layers_per_block": depth_list[0] if len(set(depth_list)) == 1 else depth_list,
        "use_linear_projection": layout.use_linear,
        "attention_head_dim": _family_heads(family, channels),
        "norm_num_groups": DEFAULT_NORM_GROUPS,
        "conv_in_kernel": layout.conv_in_kernel,
        "conv_out_kernel": layout.conv_out_kernel,
    }
    if reverse_depths is not None:
        config["reverse_transformer_layers_per_block"] = reverse_depths
    if layout.time_embed_dim != channels[0] * 4:
        config["time_embedding_dim"] = layout.time_embed_dim
    if layout.adm_in_channels is not None:
        config.update(
            addition_embed_type="text_time",
            addition_time_embed_dim=SDXL_TIME_EMBED_DIM,
            projection_class_embeddings_input_dim=layout.adm_in_channels,
        )
    config.update(meta.json_value(metadata or {}, meta.UNET_CONFIG))
    _check_divisible(config, name)
    return config


def _check_divisible(config: Mapping[str, Any], name: str) -> None:
    channels = list(config["block_out_channels"])
    groups = config["norm_num_groups"]
    if any(c % groups for c in channels):
        raise UnsupportedModelError(
            f"{name}: {groups} group-norm groups do not divide the UNet widths {channels}. Store the right "
            f"count in the safetensors metadata: {meta.UNET_CONFIG} = '{{\"norm_num_groups\": N}}'."
        )
    heads = config.get("num_attention_heads") or config["attention_head_dim"]
    heads = [heads] * len(channels) if isinstance(heads, int) else list(heads)
    for c, h, kind in zip(channels, heads, config["down_block_types"], strict=False):
        if kind.startswith("CrossAttn") and (h <= 0 or c % h):
            raise UnsupportedModelError(
                f"{name}: cannot split {c} UNet channels into {h} attention heads; head counts are not "
                f"stored in the weights. Store them in the safetensors metadata: {meta.UNET_CONFIG} = "
                "'{\"attention_head_dim\": [heads per level]}'."
            )


def infer_unet_config(
    shapes: Shapes,
    family: ModelFamily,
    metadata: Mapping[str, str] | None = None,
    prefix: str = "model.diffusion_model.",
    name: str = "checkpoint",
) -> dict[str, Any]:
    """Shapes -> diffusers ``UNet2DConditionModel`` config (see :func:`unet_config_from_layout`)."""
    return unet_config_from_layout(read_unet_layout(shapes, prefix), family, metadata, name)
