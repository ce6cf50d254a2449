"""Sample demo images with a diffusers ``StableDiffusionPipeline`` built from already-loaded modules."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from graphflow.demo.architecture import LATENT_SCALE, SCHEDULER_CONFIG
from graphflow.demo.shapes import IMAGE_SIZE

SAMPLERS = ("ddim", "euler")


def make_pipeline(unet: Any, vae: Any, text_encoder: Any, tokenizer: Any, sampler: str = "ddim") -> Any:
    """A text-to-image pipeline over the given modules; no safety checker, nothing downloaded."""
    from diffusers import DDIMScheduler, EulerDiscreteScheduler, StableDiffusionPipeline

    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}; choose one of {SAMPLERS}")
    scheduler_class = DDIMScheduler if sampler == "ddim" else EulerDiscreteScheduler
    vae.register_to_config(scaling_factor=LATENT_SCALE)
    pipeline = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler_class.from_config(SCHEDULER_CONFIG),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def load_pipeline(checkpoint: str | Path, sampler: str = "ddim") -> Any:
    """Load a demo checkpoint with graphflow's single-file loader (shape inference) into a pipeline."""
    from graphflow.models.load import load_checkpoint

    loaded = load_checkpoint(checkpoint, dtype=torch.float32)
    if loaded.clip is None or loaded.vae is None:
        raise ValueError(f"{checkpoint}: the demo checkpoint must hold a text encoder and a VAE")
    part = loaded.clip.parts[0]
    return make_pipeline(loaded.model.unet, loaded.vae.vae, part.model, part.tokenizer, sampler)


@torch.no_grad()
def generate(
    pipeline: Any,
    captions: Sequence[str],
    *,
    seed: int = 0,
    guidance: float = 3.5,
    steps: int = 25,
    batch_size: int = 25,
) -> np.ndarray:
    """Images for ``captions`` as uint8 ``[N, 128, 128, 3]``; image i uses noise seed ``seed + i``."""
    images = []
    for start in range(0, len(captions), batch_size):
        chunk = list(captions[start : start + batch_size])
        generators = [torch.Generator().manual_seed(seed + start + i) for i in range(len(chunk))]
        result = pipeline(
            chunk,
            height=IMAGE_SIZE,
            width=IMAGE_SIZE,
            num_inference_steps=steps,
            guidance_scale=guidance,
            generator=generators,
            output_type="np",
        )
        images.append((result.images * 255).round().astype(np.uint8))
    return np.concatenate(images)
