"""Edits inside real sampling runs on the tiny random SD1 UNet: every sampler, CFG batches, the source row
untouched, no-op edits equal to plain sampling, and the UNet never left patched."""

from __future__ import annotations

import pytest
import torch

from graphflow.attention.controller import edit_session
from graphflow.attention.edits import LocalBlend, MasaCtrl, PromptEdit
from graphflow.attention.install import AttentionBusy, installed
from graphflow.attention.processors import EditProcessor, PromptProcessor
from graphflow.conditioning.encode import encode_prompt
from graphflow.sampling.loop import sample
from tests.sd import tiny_models

SOURCE, TARGET = "a red circle on a blue background", "a green circle on a blue background"
SAMPLERS = ["euler", "euler_ancestral", "dpmpp_2m", "ddim", "heun"]
TOLERANCE = 2e-3  # batching and the explicit softmax change the last bits only


def cond(text: str):
    embedding, pooled = encode_prompt(tiny_models.sd1_clip(), text)
    return [[embedding, {"pooled_output": pooled}]]


def plain(prompt: str, sampler: str, steps: int = 4):
    model = tiny_models.sd1_model()
    latent = {"samples": torch.zeros(1, 4, 8, 8)}
    return sample(model, latent, [cond(prompt)], [cond("")], **options(sampler, steps))[0]


def options(sampler: str, steps: int = 4) -> dict:
    return {"sampler_name": sampler, "scheduler_name": "normal", "steps": steps, "cfg": 5.0, "seed": 7}


def edited(edit, sampler: str, steps: int = 4, record: bool = False, on_step=None):
    model = tiny_models.sd1_model()
    latent = {"samples": torch.zeros(2, 4, 8, 8)}
    with edit_session(model.unet, edit, [SOURCE, TARGET], (8, 8), record=record) as session:
        out = sample(
            model,
            latent,
            [cond(SOURCE), cond(TARGET)],
            [cond("")],
            hooks=session.hooks,
            on_step=on_step,
            **options(sampler, steps),
        )
    return out, session


def processors(unet):
    return {name: module.processor for name, module in unet.named_modules() if hasattr(module, "processor")}


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_edits_never_change_the_source_row_and_do_change_the_target(sampler):
    source, target = plain(SOURCE, sampler), plain(TARGET, sampler)
    for edit in (PromptEdit("replace", SOURCE, TARGET), MasaCtrl(start_step=0, start_layer=0)):
        out, _ = edited(edit, sampler)
        assert torch.allclose(out[0], source, atol=TOLERANCE), edit
        assert (out[1] - target).abs().max() > 0.05, edit


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_disabled_edits_equal_plain_generations_of_both_prompts(sampler):
    source, target = plain(SOURCE, sampler), plain(TARGET, sampler)
    for edit in (
        PromptEdit("replace", SOURCE, TARGET, (0.0, 0.0), (0.0, 0.0)),
        MasaCtrl(start_step=99),  # starts after the end
        None,
    ):
        out, _ = edited(edit, sampler)
        assert torch.allclose(out[0], source, atol=TOLERANCE), edit
        assert torch.allclose(out[1], target, atol=TOLERANCE), edit


def test_refine_reweight_local_blend_union_and_masks_run_on_cfg_batches():
    variants = [
        PromptEdit("refine", SOURCE, TARGET),
        PromptEdit("reweight", SOURCE, SOURCE, scales=(("red", 3.0),)),
        PromptEdit("replace", SOURCE, TARGET, local_blend=LocalBlend(("red",), ("green",), 0.3)),
        MasaCtrl(start_step=1, union=True),
        MasaCtrl(
            start_step=1, start_layer=0, source_mask=torch.ones(1, 64, 64), target_mask=torch.zeros(1, 64, 64)
        ),
        MasaCtrl(start_step=1, start_layer=0, auto_mask=True, source_prompt=SOURCE, target_prompt=TARGET),
    ]
    source = plain(SOURCE, "euler")
    for edit in variants:
        out, _ = edited(edit, "euler")
        assert torch.isfinite(out).all(), edit
        assert torch.allclose(out[0], source, atol=TOLERANCE), edit


def test_reweighting_the_same_prompt_changes_the_target_only():
    out, _ = edited(PromptEdit("reweight", SOURCE, SOURCE, scales=(("red", 5.0),)), "euler")
    assert (out[1] - out[0]).abs().max() > 0.05


def test_local_blend_keeps_the_target_equal_to_the_source_outside_its_mask():
    blend = LocalBlend(("red",), ("green",), threshold=0.9)
    out, session = edited(PromptEdit("replace", SOURCE, TARGET, local_blend=blend), "ddim")
    same = (out[1] - out[0]).abs().amax(0) < 1e-5
    assert same.any() and not same.all()


def test_recorded_maps_cover_every_token_and_row():
    _, session = edited(PromptEdit("replace", SOURCE, TARGET), "euler", record=True)
    maps = session.maps()
    assert maps.prompts == (SOURCE, TARGET)
    assert maps.maps.shape[:2] == (2, 77) and torch.isfinite(maps.maps).all()
    # averaged probabilities: every pixel's attention over the 77 tokens sums to one for the source
    assert torch.allclose(maps.maps[0].sum(0), torch.ones(maps.maps.shape[-2:]), atol=1e-4)


def test_processors_see_the_step_of_each_unet_call_on_a_two_evaluation_sampler():
    seen = []
    original = PromptProcessor.attend

    def spy(self, attn, q, k, v, mask):
        seen.append((self.state.step, self.state.call.call))
        return original(self, attn, q, k, v, mask)

    PromptProcessor.attend = spy
    try:
        edited(PromptEdit("replace", SOURCE, TARGET), "heun", steps=3)
    finally:
        PromptProcessor.attend = original
    calls = sorted(set(seen))
    assert [step for step, _ in calls] == [0, 0, 1, 1, 2]  # heun: two evaluations per step but the last
    assert [call // 2 for _, call in calls] == [step for step, _ in calls]


def test_the_cached_unet_is_restored_after_a_run_an_error_and_a_cancel():
    unet = tiny_models.sd1_model().unet
    before = processors(unet)
    edited(PromptEdit("replace", SOURCE, TARGET), "euler", record=True)
    assert all(processors(unet)[name] is proc for name, proc in before.items())

    with (
        pytest.raises(RuntimeError, match="boom"),
        edit_session(unet, MasaCtrl(start_step=0), [SOURCE, TARGET], (8, 8)),
    ):
        assert any(isinstance(p, EditProcessor) for p in processors(unet).values())
        raise RuntimeError("boom")
    assert all(processors(unet)[name] is proc for name, proc in before.items())

    class Cancelled(Exception):
        pass

    def cancel(report):
        if report.done == 2:
            raise Cancelled

    with pytest.raises(Cancelled):
        edited(PromptEdit("refine", SOURCE, TARGET), "dpmpp_2m", on_step=cancel)
    after = processors(unet)
    assert all(after[name] is proc for name, proc in before.items())
    assert not any(isinstance(p, EditProcessor) for p in after.values())


def test_layers_not_edited_keep_their_own_processor_objects():
    unet = tiny_models.sd1_model().unet
    before = processors(unet)
    with edit_session(unet, MasaCtrl(start_step=0), [SOURCE, TARGET], (8, 8)):
        during = processors(unet)
    changed = {name for name in before if during[name] is not before[name]}
    assert changed and all(".attn1" in name for name in changed)  # MasaCtrl: self-attention only
    assert any(during[name] is before[name] for name in before if ".attn1" in name)  # early blocks untouched


def test_a_second_edit_on_the_same_layers_is_refused_and_the_first_survives():
    unet = tiny_models.sd1_model().unet
    before = processors(unet)
    with edit_session(unet, MasaCtrl(start_step=0), [SOURCE, TARGET], (8, 8)):
        patched = processors(unet)
        with (
            pytest.raises(AttentionBusy, match="already has an attention edit"),
            edit_session(unet, MasaCtrl(start_step=0), [SOURCE, TARGET], (8, 8)),
        ):
            pass
        assert processors(unet) == patched
    assert processors(unet) == before


def test_installed_does_not_consume_the_callers_mapping():
    unet = tiny_models.sd1_model().unet
    name = next(n for n, m in unet.named_modules() if hasattr(m, "processor"))
    wanted = {name: EditProcessor(None, None)}
    with installed(unet, wanted):
        pass
    assert list(wanted) == [name]
