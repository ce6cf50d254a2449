"""Edits on small random tensors: P2P replacement maps, LocalBlend masks, MasaCtrl's K/V swap forms, and
the processors reproducing the stock attention when they have nothing to do."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from graphflow.attention.edits import LocalBlend, MasaCtrl, PromptEdit
from graphflow.attention.layers import Layer
from graphflow.attention.mappers import refine_mapper, replace_matrix
from graphflow.attention.p2p import PromptPlan, apply_blend, blend_masks
from graphflow.attention.processors import MutualProcessor, PromptProcessor, masked_mutual
from graphflow.attention.state import EditState
from graphflow.sampling.hooks import UnetCall

SOURCE, TARGET = "a red circle on a blue background", "a green circle on a blue background"


def random_probs(batch=2, heads=2, tokens=6, keys=77, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, heads, tokens, keys, generator=generator).softmax(-1)


def test_replace_with_alpha_one_gives_base_times_matrix_and_leaves_the_source():
    plan = PromptPlan(PromptEdit("replace", SOURCE, TARGET, (0.0, 1.0), (0.0, 0.0)))
    probs = random_probs()
    before = probs.clone()
    plan.edit_cross(probs, 0, [1], step=3, total=10)
    assert torch.allclose(probs[1], before[0] @ replace_matrix(SOURCE, TARGET))
    assert torch.equal(probs[0], before[0])


def test_after_the_cross_window_the_target_keeps_its_own_maps():
    plan = PromptPlan(PromptEdit("replace", SOURCE, TARGET, (0.0, 0.5), (0.0, 0.0)))
    probs = random_probs()
    before = probs.clone()
    plan.edit_cross(probs, 0, [1], step=8, total=10)
    assert torch.equal(probs, before)


def test_refine_takes_source_columns_for_aligned_tokens_and_keeps_inserted_ones():
    source, target = "a circle", "a large circle"
    plan = PromptPlan(PromptEdit("refine", source, target, (0.0, 1.0), (0.0, 0.0)))
    probs = random_probs(seed=1)
    before = probs.clone()
    plan.edit_cross(probs, 0, [1], step=0, total=4)
    mapper, alpha = refine_mapper(source, target)
    assert mapper[:5].tolist() == [0, 1, -1, 2, 3]
    assert torch.equal(probs[1][..., 2], before[1][..., 2])  # "large" keeps its own map
    assert torch.equal(probs[1][..., 3], before[0][..., 2])  # "circle" from the source's "circle"
    assert torch.equal(probs[1][..., 4], before[0][..., 3])  # EOS from the source's EOS
    assert torch.equal(probs[1][..., 10], before[0][..., 10])  # padding maps to itself


def test_reweight_multiplies_only_the_selected_columns_of_the_target():
    plan = PromptPlan(PromptEdit("reweight", SOURCE, SOURCE, (0.0, 1.0), (0.0, 0.0), scales=(("red", 4.0),)))
    probs = random_probs(seed=2)
    before = probs.clone()
    plan.edit_cross(probs, 0, [1], step=0, total=4)
    assert torch.allclose(probs[1][..., 2], 4 * before[0][..., 2])
    keep = [i for i in range(77) if i != 2]
    assert torch.allclose(probs[1][..., keep], before[0][..., keep])  # reweight alone: source maps
    assert torch.equal(probs[0], before[0])


def test_reweight_chained_onto_replace_scales_the_replaced_maps():
    plan = PromptPlan(PromptEdit("replace", SOURCE, TARGET, (0.0, 1.0), (0.0, 0.0), scales=(("green", 0.5),)))
    probs = random_probs(seed=3)
    before = probs.clone()
    plan.edit_cross(probs, 0, [1], step=0, total=4)
    expected = before[0] @ replace_matrix(SOURCE, TARGET)
    expected[..., 2] *= 0.5
    assert torch.allclose(probs[1], expected)


def test_tiled_token_sequences_are_edited_chunk_by_chunk():
    plan = PromptPlan(PromptEdit("replace", SOURCE, TARGET, (0.0, 1.0), (0.0, 0.0)))
    single = random_probs(seed=4)
    tiled = torch.cat([single, single], dim=-1) / 2
    plan.edit_cross(single, 0, [1], 0, 4)
    plan.edit_cross(tiled, 0, [1], 0, 4)
    assert torch.allclose(tiled[..., :77] * 2, single) and torch.allclose(tiled[..., 77:] * 2, single)


def test_local_blend_mask_is_the_thresholded_dilated_hot_spot_united_with_the_source():
    edit = PromptEdit("replace", SOURCE, TARGET)
    blend = LocalBlend(("circle",), ("circle",), threshold=0.5)
    maps = torch.full((2, 16, 77), 0.01)  # 4x4 maps, circle is token 3
    maps[0, 5, 3] = 1.0  # source hot spot at (1, 1)
    maps[1, 10, 3] = 1.0  # target hot spot at (2, 2)
    mask = blend_masks(blend, edit, maps, (8, 8), (4, 4))
    assert mask.shape == (2, 1, 8, 8)
    source_region = torch.zeros(4, 4, dtype=torch.bool)
    source_region[0:3, 0:3] = True  # 3x3 max-pool around (1, 1)
    target_region = torch.zeros(4, 4, dtype=torch.bool)
    target_region[1:4, 1:4] = True
    up = lambda m: m.repeat_interleave(2, 0).repeat_interleave(2, 1)  # noqa: E731
    assert torch.equal(mask[0, 0], up(source_region))
    assert torch.equal(mask[1, 0], up(source_region | target_region))
    x = torch.randn(2, 4, 8, 8)
    blended = apply_blend(x, mask)
    assert torch.equal(blended[0], x[0])
    outside = ~mask[1, 0]
    assert torch.equal(blended[1][:, outside], x[0][:, outside])
    assert torch.allclose(blended[1][:, ~outside], x[1][:, ~outside])


def test_mutual_attention_concatenated_query_form_equals_kv_replacement():
    generator = torch.Generator().manual_seed(5)
    q, k, v = (torch.randn(2, 2, 9, 4, generator=generator) for _ in range(3))
    # reference form: both images' queries on the token axis, attending to image 0's keys and values
    joint = F.scaled_dot_product_attention(torch.cat([q[0], q[1]], dim=1)[None], k[:1], v[:1])[0]
    # processor form: replace the target's K/V with the source's
    k2, v2 = k.clone(), v.clone()
    k2[1], v2[1] = k[0], v[0]
    swapped = F.scaled_dot_product_attention(q, k2, v2)
    assert torch.allclose(joint[:, :9], swapped[0], atol=1e-6)
    assert torch.allclose(joint[:, 9:], swapped[1], atol=1e-6)


def test_masked_mutual_with_full_or_empty_masks_reduces_to_plain_mutual_without_nan():
    generator = torch.Generator().manual_seed(6)
    q, k, v = (torch.randn(1, 2, 9, 4, generator=generator) for _ in range(3))
    plain = F.scaled_dot_product_attention(q, k, v)
    for source in (torch.ones(9), torch.zeros(9)):
        for target in (torch.ones(9), torch.zeros(9)):
            out = masked_mutual(q, k, v, source, target, scale=0.5)
            assert torch.isfinite(out).all()
            assert torch.allclose(out, plain, atol=1e-6)


def test_masked_mutual_foreground_queries_attend_to_foreground_keys_only():
    generator = torch.Generator().manual_seed(7)
    q, k, v = (torch.randn(1, 1, 4, 2, generator=generator) for _ in range(3))
    source = torch.tensor([1.0, 1.0, 0.0, 0.0])
    target = torch.tensor([1.0, 0.0, 1.0, 0.0])
    out = masked_mutual(q, k, v, source, target, scale=1.0)
    fg = F.scaled_dot_product_attention(q, k[:, :, :2], v[:, :, :2], scale=1.0)
    bg = F.scaled_dot_product_attention(q, k[:, :, 2:], v[:, :, 2:], scale=1.0)
    assert torch.allclose(out[..., [0, 2], :], fg[..., [0, 2], :], atol=1e-6)
    assert torch.allclose(out[..., [1, 3], :], bg[..., [1, 3], :], atol=1e-6)


def _attention_module(cross: bool):
    from diffusers.models.attention_processor import Attention

    torch.manual_seed(0)
    return Attention(16, cross_attention_dim=8 if cross else None, heads=2, dim_head=4).eval()


def _state(step: int) -> EditState:
    state = EditState(rows=2, latent_hw=(4, 4))
    state.begin_call(UnetCall(step, 10, step, 500, 1.0, (0, 1, 0, 1), (True, True, False, False)))
    return state


@pytest.mark.parametrize("cross", [False, True])
def test_processors_equal_the_stock_attention_when_inactive(cross):
    attn = _attention_module(cross)
    hidden = torch.randn(4, 16, 16)
    context = torch.randn(4, 77, 8) if cross else None
    stock = attn(hidden, encoder_hidden_states=context)
    layer = Layer((2, 0, 0, 0, int(cross)), "x", "up", 3, cross, 1)
    plan = PromptPlan(PromptEdit("replace", SOURCE, TARGET, (0.0, 0.0), (0.0, 0.0)))
    for processor in (
        PromptProcessor(layer, _state(5), plan, record=True),
        MutualProcessor(layer, _state(0), MasaCtrl(start_step=6), None),
    ):
        attn.set_processor(processor)
        assert torch.allclose(attn(hidden, encoder_hidden_states=context), stock, atol=1e-5)


def test_mutual_processor_gives_the_target_the_source_keys_values_in_each_cfg_half():
    attn = _attention_module(False)
    hidden = torch.randn(4, 16, 16)  # rows: uncond src, uncond tgt, cond src, cond tgt
    layer = Layer((2, 0, 0, 0, 0), "x", "up", 3, False, 1)
    attn.set_processor(MutualProcessor(layer, _state(2), MasaCtrl(start_step=0), None))
    out = attn(hidden)
    stock = _attention_module(False)
    for source, target in ((0, 1), (2, 3)):
        # the target's queries with the source's keys/values: run attention with the source as context
        expected = stock(hidden[target : target + 1], encoder_hidden_states=hidden[source : source + 1])
        assert torch.allclose(out[target], expected[0], atol=1e-5)
        assert torch.allclose(out[source], stock(hidden[source : source + 1])[0], atol=1e-5)
