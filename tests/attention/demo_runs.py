"""Run attention edits on the demo checkpoint and read the pictures back (used by the semantic tests)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "graphflow" / "data" / "checkpoints" / "graphflow-demo.safetensors"
FOREGROUND_DISTANCE = 60.0


@cache
def demo_stack():
    from graphflow.models.load import load_checkpoint

    return load_checkpoint(DEMO, dtype=torch.float32)  # as stored (fp16) is very slow on CPU


@cache
def encoded(prompt: str):
    from graphflow.conditioning.encode import encode_prompt

    embedding, pooled = encode_prompt(demo_stack().clip, prompt)
    return [[embedding, {"pooled_output": pooled}]]


def generate(
    edit,
    source: str,
    target: str | None,
    seed: int,
    *,
    sampler="euler",
    scheduler="normal",
    steps=20,
    cfg=4.0,
) -> list[np.ndarray]:
    """The source (and target) pictures as uint8 ``[128, 128, 3]`` arrays."""
    from graphflow.attention.controller import edit_session
    from graphflow.imaging.vae import decode
    from graphflow.sampling.loop import sample

    model, _, vae = demo_stack()
    prompts = [source] + ([target] if target is not None else [])
    latent = {"samples": torch.zeros(len(prompts), 4, 16, 16)}
    with edit_session(model.unet, edit, prompts, (16, 16)) as session:
        out = sample(
            model,
            latent,
            [encoded(p) for p in prompts],
            [encoded("")],
            sampler_name=sampler,
            scheduler_name=scheduler,
            steps=steps,
            cfg=cfg,
            seed=seed,
            hooks=session.hooks,
        )
    pixels = decode(vae, out)
    return [(p.clamp(0, 1).numpy() * 255).round().astype(np.uint8) for p in pixels]


def foreground(image: np.ndarray) -> np.ndarray:
    """Pixels far from the background colour (the median of the border)."""
    pixels = image.astype(np.float32)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    background = np.median(border, axis=0)
    return np.linalg.norm(pixels - background, axis=-1) > FOREGROUND_DISTANCE


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def saturation(image: np.ndarray) -> float:
    """Mean HSV saturation of the foreground pixels (0 when there are none)."""
    mask = foreground(image)
    if not mask.any():
        return 0.0
    pixels = image[mask].astype(np.float32) / 255.0
    high, low = pixels.max(-1), pixels.min(-1)
    return float(np.where(high > 0, (high - low) / np.maximum(high, 1e-6), 0.0).mean())
