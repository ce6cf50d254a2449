"""Layers are identified by name: execution-order blocks and feature-map factors for SD1.x and SDXL."""

from __future__ import annotations

from functools import cache

import pytest

from graphflow.attention.layers import (
    block_count,
    layers_of,
    masactrl_start_layer,
    nearest_factor,
    parse,
    unet_layers,
)


@cache
def sd1_shaped_unet():
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        block_out_channels=(32, 32, 32, 32),
        norm_num_groups=8,
        attention_head_dim=2,
        cross_attention_dim=16,
        layers_per_block=2,
        sample_size=8,
    )


@cache
def sdxl_shaped_unet():
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        block_out_channels=(16, 16, 16),
        transformer_layers_per_block=(1, 2, 10),
        layers_per_block=2,
        norm_num_groups=8,
        attention_head_dim=2,
        cross_attention_dim=16,
        sample_size=8,
    )


# (execution blocks, processor-name prefix, factor) from the spec's SD1.x table
SD1_TABLE = [
    (range(0, 2), "down_blocks.0", 1),
    (range(2, 4), "down_blocks.1", 2),
    (range(4, 6), "down_blocks.2", 4),
    (range(6, 7), "mid_block", 8),
    (range(7, 10), "up_blocks.1", 4),
    (range(10, 13), "up_blocks.2", 2),
    (range(13, 16), "up_blocks.3", 1),
]


def test_parse_reads_place_indices_and_kind():
    assert parse("up_blocks.1.attentions.2.transformer_blocks.0.attn2.processor") == ("up", 1, 2, 0, "attn2")
    assert parse("mid_block.attentions.0.transformer_blocks.3.attn1") == ("mid", 0, 0, 3, "attn1")
    assert parse("down_blocks.0.resnets.0.conv1") is None


def test_sd1_layers_reproduce_the_spec_table_whatever_the_dict_order():
    unet = sd1_shaped_unet()
    names = list(unet.attn_processors)  # registration order: down, up, mid
    assert names.index("mid_block.attentions.0.transformer_blocks.0.attn1.processor") > names.index(
        "up_blocks.3.attentions.2.transformer_blocks.0.attn2.processor"
    )
    layers = layers_of(reversed(names))
    assert len(layers) == 32 and block_count(layers) == 16
    for blocks, prefix, factor in SD1_TABLE:
        chosen = [layer for layer in layers if layer.module.startswith(prefix)]
        assert sorted({layer.block for layer in chosen}) == list(blocks), prefix
        assert {layer.factor for layer in chosen} == {factor}, prefix
    assert layers == unet_layers(unet)
    assert masactrl_start_layer(16) == 10


def test_sdxl_layout_has_70_blocks_and_the_paper_start_layer_44():
    layers = unet_layers(sdxl_shaped_unet())
    assert block_count(layers) == 70 and len(layers) == 140
    blocks = {layer.block: layer for layer in layers}
    assert blocks[0].module.startswith("down_blocks.1.attentions.0") and blocks[0].factor == 2
    assert blocks[4].module.startswith("down_blocks.2") and blocks[23].module.startswith("down_blocks.2")
    assert blocks[24].module.startswith("mid_block") and blocks[33].module.startswith("mid_block")
    assert blocks[34].module.startswith("up_blocks.0") and blocks[63].module.startswith("up_blocks.0")
    assert blocks[64].module.startswith("up_blocks.1") and blocks[64].factor == 2
    assert blocks[44].module.startswith("up_blocks.0.attentions.1")
    assert masactrl_start_layer(70) == 44


@pytest.mark.parametrize(("wanted", "expected"), [(4, 4), (3, 2), (16, 8), (1, 1)])
def test_nearest_factor_among_cross_layers(wanted, expected):
    assert nearest_factor(unet_layers(sd1_shaped_unet()), wanted) == expected


def test_processor_choice_follows_layer_sizes_and_keeps_the_rest():
    from graphflow.attention.controller import processors_for
    from graphflow.attention.edits import MasaCtrl, PromptEdit
    from graphflow.attention.processors import MutualProcessor, PromptProcessor, RecordProcessor
    from graphflow.attention.state import EditState

    layers = unet_layers(sd1_shaped_unet())
    by_name = {layer.module: layer for layer in layers}
    # 512 px: maps are recorded on cross layers with at most 32x32 positions, i.e. factor >= 2
    chosen = processors_for(layers, None, EditState(1, (64, 64)), record=True)
    assert all(isinstance(p, RecordProcessor) for p in chosen.values())
    assert {by_name[n].factor for n in chosen} == {2, 4, 8} and all(by_name[n].cross for n in chosen)
    # a small latent: every cross layer is small enough
    assert len(processors_for(layers, None, EditState(1, (16, 16)), record=True)) == 16
    # P2P: every cross layer, and self-attention only where the map is latent/4 or coarser
    edit = PromptEdit("replace", "a red circle", "a blue circle")
    chosen = processors_for(layers, edit, EditState(2, (64, 64)), record=False)
    assert all(isinstance(p, PromptProcessor) for p in chosen.values())
    self_layers = [by_name[n] for n in chosen if not by_name[n].cross]
    assert {layer.factor for layer in self_layers} == {4, 8} and len(self_layers) == 6
    assert sum(by_name[n].cross for n in chosen) == 16
    # MasaCtrl: self-attention of blocks 10..15 only (paper default on SD1.x)
    chosen = processors_for(layers, MasaCtrl(), EditState(2, (64, 64)), record=False)
    assert all(isinstance(p, MutualProcessor) for p in chosen.values())
    assert sorted(by_name[n].block for n in chosen) == list(range(10, 16))
