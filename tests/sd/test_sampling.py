"""Sampling semantics: the sampler x scheduler matrix, seeds, denoise, schedule slices, masks, conditioning
lists, hooks and shared noise."""

from __future__ import annotations

import pytest
import torch

from graphflow.conditioning.encode import encode_prompt
from graphflow.sampling.guidance import Guider
from graphflow.sampling.hooks import SamplerHooks
from graphflow.sampling.loop import sample
from graphflow.sampling.schedulers import SAMPLER_NAMES, SCHEDULER_NAMES

from . import tiny_models


def cond(text: str):
    embedding, pooled = encode_prompt(tiny_models.sd1_clip(), text)
    return [[embedding, {"pooled_output": pooled}]]


POSITIVE, NEGATIVE = cond("a red cat"), cond("")


def run(latent=None, **options):
    options = {
        "sampler_name": "euler",
        "scheduler_name": "normal",
        "steps": 4,
        "cfg": 6.0,
        "seed": 3,
        **options,
    }
    positive = options.pop("positive", [POSITIVE])
    negative = options.pop("negative", [NEGATIVE])
    latent = latent if latent is not None else {"samples": torch.zeros(1, 4, 8, 8)}
    return sample(tiny_models.sd1_model(), latent, positive, negative, **options)


@pytest.mark.slow
@pytest.mark.parametrize("sampler", SAMPLER_NAMES)
def test_every_sampler_with_every_scheduler_gives_finite_nonblank_latents(sampler):
    for scheduler in SCHEDULER_NAMES:
        out = run(sampler_name=sampler, scheduler_name=scheduler, steps=3)
        assert out.shape == (1, 4, 8, 8)
        assert torch.isfinite(out).all(), (sampler, scheduler)
        assert out.std() > 1e-3, (sampler, scheduler)


@pytest.mark.parametrize("sampler", ["euler_ancestral", "dpmpp_sde", "dpmpp_2m_sde", "ddpm", "euler"])
def test_same_seed_same_result_other_seed_other_result(sampler):
    first = run(sampler_name=sampler, seed=11)
    assert torch.equal(first, run(sampler_name=sampler, seed=11))
    assert not torch.allclose(first, run(sampler_name=sampler, seed=12))


def test_largest_seed_is_accepted():
    assert torch.isfinite(run(seed=2**64 - 1)).all()


def test_batch_index_reproduces_rows_of_the_full_batch():
    full = run({"samples": torch.zeros(3, 4, 8, 8)})
    sliced = run({"samples": torch.zeros(1, 4, 8, 8), "batch_index": [2]})
    # equal up to float rounding (batch 3 and batch 1 UNet calls round differently; values reach ~100)
    assert torch.allclose(sliced[0], full[2], rtol=1e-4, atol=1e-3)
    assert not torch.allclose(sliced[0], full[0], rtol=1e-2, atol=1e-1)


def test_denoise_keeps_structure_of_the_input():
    source = {"samples": torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0))}
    light = run(source, steps=10, start_step=8)  # KSampler denoise 0.2 of 2 steps = steps 8..10 of 10
    heavy = run(source, steps=10)
    assert (light - source["samples"]).abs().mean() < (heavy - source["samples"]).abs().mean()


def test_base_with_leftover_noise_then_continuation_equals_one_run():
    whole = run(steps=6)
    base = run(steps=6, end_step=3, return_leftover_noise=True)
    refined = run({"samples": base}, steps=6, start_step=3, add_noise=False)
    assert torch.allclose(refined, whole, atol=1e-4)


def test_early_end_without_leftover_noise_is_denoised():
    noisy = run(steps=6, end_step=3, return_leftover_noise=True)
    clean = run(steps=6, end_step=3)
    assert clean.abs().max() < noisy.abs().max()


def test_start_after_end_returns_the_input():
    latent = {"samples": torch.randn(1, 4, 8, 8)}
    assert torch.equal(run(latent, steps=4, start_step=4), latent["samples"])


@pytest.mark.parametrize("sampler", ["euler", "dpmpp_2m", "heun"])
def test_noise_mask_keeps_the_unmasked_region(sampler):
    source = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    mask = torch.zeros(1, 1, 64, 64)
    mask[..., :, 32:] = 1.0  # repaint the right half (pixel-resolution mask)
    out = run({"samples": source, "noise_mask": mask}, sampler_name=sampler)
    assert torch.allclose(out[..., :4], source[..., :4], atol=1e-5)
    assert (out[..., 4:] - source[..., 4:]).abs().mean() > 0.1


def test_progress_is_reported_every_step_with_previews():
    reports = []
    run(steps=5, on_step=reports.append, preview=True, sampler_name="heun")
    assert [r.done for r in reports] == [1, 2, 3, 4, 5] and {r.total for r in reports} == {5}
    assert all(r.denoised is not None and r.denoised.shape == (4, 8, 8) for r in reports)


def test_cancellation_stops_the_loop():
    seen = []

    class Stop(Exception):
        pass

    def on_step(report):
        seen.append(report.done)
        if report.done == 2:
            raise Stop

    with pytest.raises(Stop):
        run(steps=6, on_step=on_step)
    assert seen == [1, 2]


class Recorder(SamplerHooks):
    def __init__(self, groups=None):
        self.noise_groups = groups
        self.calls = []

    def before_unet(self, call):
        self.calls.append(call)
        return None


def test_hooks_see_every_unet_call_with_its_step_and_rows():
    hooks = Recorder()
    run({"samples": torch.zeros(2, 4, 8, 8)}, steps=3, sampler_name="heun", hooks=hooks)
    assert [c.step for c in hooks.calls] == [0, 0, 1, 1, 2]  # heun: two calls per step, one for the last
    assert hooks.calls[0].rows == (0, 1, 0, 1) and hooks.calls[0].unconditional == (True, True, False, False)
    assert hooks.calls[0].sigma > hooks.calls[-1].sigma > 0


@pytest.mark.parametrize("sampler", ["euler_ancestral", "dpmpp_sde", "dpmpp_2m_sde", "euler"])
def test_shared_noise_groups_and_per_row_prompts(sampler):
    latent = {"samples": torch.zeros(2, 4, 8, 8)}
    same = run(latent, sampler_name=sampler, hooks=Recorder((0, 0)))
    assert torch.allclose(same[0], same[1], atol=1e-5)  # shared start and shared per-step noise
    edited = run(
        latent, sampler_name=sampler, hooks=Recorder((0, 0)), positive=[POSITIVE, cond("a blue dog")]
    )
    assert torch.allclose(edited[0], same[0], atol=1e-4)  # row 0 keeps its prompt
    assert not torch.allclose(edited[1], same[1], atol=1e-3)


def _guided(positive, cfg=1.0):
    unet, _, _ = tiny_models.sd1_parts()
    guider = Guider(unet, [positive], [NEGATIVE], cfg, 1, (8, 8))
    x = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(5))
    return guider(x, torch.tensor(500.0), step=0, total=1, call=0, sigma=1.0)


def test_combined_conditionings_average_their_predictions():
    other = cond("a blue dog")
    both = _guided(POSITIVE + other)
    assert torch.allclose(both, (_guided(POSITIVE) + _guided(other)) / 2, atol=1e-5)


def test_area_conditioning_only_acts_inside_its_area():
    area = [[other[0], {**other[1], "area": (8, 4, 0, 0), "strength": 1.0}] for other in cond("a blue dog")]
    alone, with_area = _guided(POSITIVE, cfg=7.0), _guided(POSITIVE + area, cfg=7.0)
    assert torch.equal(with_area[..., 4:], alone[..., 4:])  # right half: the full-size prompt only
    assert not torch.allclose(with_area[..., :3], alone[..., :3])


def test_cfg_one_skips_the_negative_pass():
    hooks = Recorder()
    run(cfg=1.0, steps=2, hooks=hooks)
    assert all(call.unconditional == (False,) for call in hooks.calls)


def test_mismatched_conditioning_width_is_a_clear_error():
    wrong = [[torch.zeros(1, 77, 768), {}]]
    with pytest.raises(ValueError, match="768 features per token but the model expects 32"):
        run(positive=[wrong])


def test_sdxl_sampling_uses_pooled_output_and_size_conditioning():
    model = tiny_models.sdxl_model()
    embedding, pooled = encode_prompt(tiny_models.sdxl_clip(), "a cat")
    latent = {"samples": torch.zeros(1, 4, 8, 8)}
    options = {"sampler_name": "euler", "scheduler_name": "karras", "steps": 3, "cfg": 5.0, "seed": 1}
    base = sample(
        model,
        latent,
        [[[embedding, {"pooled_output": pooled}]]],
        [[[embedding * 0, {"pooled_output": pooled * 0}]]],
        **options,
    )
    resized = sample(
        model,
        latent,
        [[[embedding, {"pooled_output": pooled, "width": 1024, "height": 1024}]]],
        [[[embedding * 0, {"pooled_output": pooled * 0}]]],
        **options,
    )
    assert torch.isfinite(base).all() and not torch.allclose(base, resized)
    with pytest.raises(ValueError, match="pooled_output"):
        sample(model, latent, [[[embedding, {}]]], [[[embedding, {}]]], **options)
