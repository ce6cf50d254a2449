"""graphflow's sampling loop against diffusers' StableDiffusionPipeline on the same tiny model.

The pipeline encodes the prompts itself (so CLIPTextEncode is checked too) and runs the same scheduler
configuration. Both start from bit-identical latents: the pipeline multiplies the latents it is given by
``init_noise_sigma``, and graphflow's start (``x0 + factor * noise``, ComfyUI's convention) is given to it as a
latent with noise addition disabled (KSamplerAdvanced ``add_noise=disable``), on a handle with latent scale 1
so no rescaling rounds the values.
"""

from __future__ import annotations

import math

import pytest
import torch

from graphflow.conditioning.encode import encode_prompt
from graphflow.models.handles import DiffusionModel, NoiseSchedule
from graphflow.sampling.loop import Levels, sample
from graphflow.sampling.noise import initial_noise
from graphflow.sampling.schedulers import build_scheduler

from . import tiny_models

STEPS, CFG, SEED = 5, 7.5, 42


def _pipeline(scheduler):
    from diffusers import StableDiffusionPipeline

    unet, vae, text = tiny_models.sd1_parts()
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text,
        tokenizer=tiny_models.sd1_clip().parts[0].tokenizer,
        unet=unet,
        scheduler=type(scheduler).from_config(scheduler.config),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _conditioning(text: str):
    cond, pooled = encode_prompt(tiny_models.sd1_clip(), text)
    return [[cond, {"pooled_output": pooled}]]


def _run_pipeline(prepared, latents):
    kwargs = {}
    config = prepared.scheduler.config
    if type(prepared.scheduler).__name__ == "DPMSolverMultistepScheduler" and not config.use_karras_sigmas:
        kwargs["timesteps"] = [int(t) for t in prepared.scheduler.timesteps]  # "normal" is explicit timesteps
    return _pipeline(prepared.scheduler)(
        "a photo of a cat",
        num_inference_steps=STEPS,
        guidance_scale=CFG,
        latents=latents,
        output_type="latent",
        height=64,
        width=64,
        **kwargs,
    ).images


@pytest.mark.parametrize(
    ("sampler", "scheduler"),
    [
        ("euler", "normal"),
        ("euler", "karras"),
        ("ddim", "ddim_uniform"),
        ("dpmpp_2m", "karras"),
        ("dpmpp_2m", "normal"),
    ],
)
def test_loop_matches_stable_diffusion_pipeline(sampler, scheduler):
    unet, _, _ = tiny_models.sd1_parts()
    model = DiffusionModel(unet, "sd1", NoiseSchedule(), 1.0, "tiny-unit-scale")
    prepared = build_scheduler(sampler, scheduler, model.schedule, STEPS)
    noise = torch.randn((1, 4, 8, 8), generator=torch.Generator().manual_seed(7))
    if (
        prepared.recipe.space == "ve"
    ):  # the pipeline multiplies by init_noise_sigma; give graphflow the product
        start, pipeline_latents = noise * prepared.scheduler.init_noise_sigma, noise
    else:  # init_noise_sigma is 1; graphflow divides by sqrt(1 + sigma^2) on entry, so hand the quotient over
        sigma = Levels(prepared, model.schedule).boundary(0)
        start, pipeline_latents = noise, noise / math.sqrt(1.0 + sigma * sigma)
    ours = sample(
        model,
        {"samples": start},
        [_conditioning("a photo of a cat")],
        [_conditioning("")],
        sampler_name=sampler,
        scheduler_name=scheduler,
        steps=STEPS,
        cfg=CFG,
        seed=SEED,
        add_noise=False,
    )
    theirs = _run_pipeline(prepared, pipeline_latents)
    assert ours.shape == theirs.shape == (1, 4, 8, 8)
    assert (ours - theirs).abs().max().item() <= 1e-5


def test_seeded_txt2img_matches_pipeline_given_the_same_noise():
    """KSampler's own seeded start (CPU randn x sqrt(1 + sigma_max^2)) fed to the pipeline gives its result
    up to float rounding of the start (the random tiny model does not remove noise, so values stay large)."""
    model = tiny_models.sd1_model()
    prepared = build_scheduler("euler", "normal", model.schedule, STEPS)
    sigma = Levels(prepared, model.schedule).boundary(0)
    noise = initial_noise((1, 4, 8, 8), SEED)
    assert torch.equal(noise, torch.randn((1, 4, 8, 8), generator=torch.Generator().manual_seed(SEED)))
    ours = sample(
        model,
        {"samples": torch.zeros(1, 4, 8, 8)},
        [_conditioning("a photo of a cat")],
        [_conditioning("")],
        sampler_name="euler",
        scheduler_name="normal",
        steps=STEPS,
        cfg=CFG,
        seed=SEED,
    )
    start = noise * math.sqrt(1 + sigma * sigma) / float(prepared.scheduler.init_noise_sigma)
    theirs = _run_pipeline(prepared, start) / model.latent_scale
    scale = theirs.abs().max().item()
    assert (ours - theirs).abs().max().item() <= 1e-5 * scale


def test_denoise_zero_returns_the_input_latent(sd1):
    from graphflow.nodes.sampling import KSampler

    model, _, _ = sd1
    latent = {"samples": torch.randn(1, 4, 8, 8)}
    node = KSampler.spec.runner
    result = node.call(
        None,
        {
            "model": model,
            "seed": 1,
            "steps": 4,
            "cfg": 7.0,
            "sampler_name": "euler",
            "scheduler": "normal",
            "positive": _conditioning("x"),
            "negative": _conditioning(""),
            "latent_image": latent,
            "denoise": 0.0,
        },
    )
    assert torch.equal(result.outputs[0]["samples"], latent["samples"])
