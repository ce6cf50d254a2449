"""UNet + text encoder stage: encode a latent pool once, then train with the DDPM epsilon loss."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from data import CaptionTable, background_tensor, images_to_tensor
from diffusers.models.attention_processor import AttnProcessor, AttnProcessor2_0
from grounding import coverage, grounding_loss, install_capture, object_token_ids
from tqdm import tqdm

from graphflow.demo.architecture import LATENT_SCALE, SCHEDULER_CONFIG
from graphflow.demo.shapes import Scene, training_examples


@dataclass
class LatentPool:
    """Posterior means and standard deviations ``[N, 4, 16, 16]`` (raw, unscaled), each entry's scene and
    its shape's coverage of the latent grid ``[N, 16, 16]`` (for the grounding loss)."""

    mean: torch.Tensor
    std: torch.Tensor
    scenes: list[Scene]
    cover: torch.Tensor


@torch.no_grad()
def encode_pool(vae: torch.nn.Module, count: int, seed: int, batch_size: int = 64) -> LatentPool:
    """Render ``count`` training examples and encode them with ``vae`` (bf16 autocast)."""
    examples = list(training_examples(count, seed=seed, phrase_dropout=0.0))
    means, stds, covers = [], [], []
    for start in tqdm(range(0, count, batch_size), desc="latents", unit="batch"):
        batch = examples[start : start + batch_size]
        images = images_to_tensor(batch)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            posterior = vae.encode(images).latent_dist
        means.append(posterior.mean.float())
        stds.append(posterior.std.float())
        covers.append(coverage(images, background_tensor(batch)))
    scenes = [example.scene for example in examples]
    return LatentPool(torch.cat(means), torch.cat(stds), scenes, torch.cat(covers))


@dataclass(frozen=True)
class UnetSchedule:
    """Optimisation settings of the UNet + text-encoder stage."""

    steps: int = 1600
    batch: int = 64
    learning_rate: float = 5e-4
    warmup_steps: int = 100
    final_lr_fraction: float = 0.1
    ema_decay: float = 0.999
    min_snr_gamma: float = 5.0
    caption_dropout: float = 0.1
    phrase_dropout: float = 0.15
    grounding_weight: float = 0.0
    seed: int = 3


def _alphas_cumprod() -> torch.Tensor:
    """ᾱ_t of SD1's scaled-linear schedule, ``[1000]``."""
    betas = torch.linspace(
        SCHEDULER_CONFIG["beta_start"] ** 0.5,
        SCHEDULER_CONFIG["beta_end"] ** 0.5,
        SCHEDULER_CONFIG["num_train_timesteps"],
        dtype=torch.float64,
    ).square()
    return torch.cumprod(1.0 - betas, dim=0).float()


class Ema:
    """Exponential moving average of parameters, with the usual (1 + n) / (10 + n) warm-up of the decay."""

    def __init__(self, modules: list[torch.nn.Module], decay: float) -> None:
        self.decay = decay
        self.shadows = [copy.deepcopy(module).eval().requires_grad_(False) for module in modules]
        self.modules = modules
        self.updates = 0

    @torch.no_grad()
    def update(self) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for shadow, module in zip(self.shadows, self.modules, strict=True):
            for averaged, current in zip(shadow.parameters(), module.parameters(), strict=True):
                averaged.lerp_(current, 1.0 - decay)


def train_unet(
    unet: torch.nn.Module,
    text_encoder: torch.nn.Module,
    tokenizer: object,
    pool: LatentPool,
    schedule: UnetSchedule,
) -> tuple[torch.nn.Module, torch.nn.Module, dict[str, list[float]]]:
    """Train both models jointly; returns the EMA copies of (unet, text_encoder) and the losses per step.

    Loss: ε-prediction MSE with min-SNR-γ weighting (Hang et al. 2023), timesteps uniform over 1000;
    captions lose optional phrases with ``phrase_dropout`` and are emptied with ``caption_dropout``
    (classifier-free guidance). Plus ``grounding_weight`` × the token grounding loss (see grounding.py).
    Mixed precision: bf16 autocast (softmax in float32).
    """
    torch.manual_seed(schedule.seed)
    generator = torch.Generator().manual_seed(schedule.seed)
    captions = CaptionTable(tokenizer)
    alphas_cumprod = _alphas_cumprod()
    snr = alphas_cumprod / (1.0 - alphas_cumprod)
    loss_weight = snr.clamp(max=schedule.min_snr_gamma) / snr
    # Explicit softmax attention (diffusers' AttnProcessor) under bf16 autocast: for this UNet's 8-channel
    # heads on CPU, fused SDPA's backward is the slowest op of a step (~45% of it); the explicit form keeps
    # the softmax in float32 and makes a step ~1.2× faster. Cross-attention maps are kept for grounding.
    if schedule.grounding_weight > 0:
        captured = install_capture(unet)
    else:
        captured = []
        unet.set_attn_processor(AttnProcessor())
    object_ids = object_token_ids(tokenizer)
    unet.train()
    text_encoder.train()
    decay, no_decay = [], []
    for module in (unet, text_encoder):
        for name, parameter in module.named_parameters():
            (no_decay if parameter.ndim < 2 or "embedding" in name else decay).append(parameter)
    optimiser = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
        lr=schedule.learning_rate,
        betas=(0.9, 0.99),
    )

    def lr_factor(step: int) -> float:
        if step < schedule.warmup_steps:
            return (step + 1) / schedule.warmup_steps
        progress = (step - schedule.warmup_steps) / max(1, schedule.steps - schedule.warmup_steps)
        floor = schedule.final_lr_fraction
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, lr_factor)
    ema = Ema([unet, text_encoder], schedule.ema_decay)
    losses: list[float] = []
    grounding_losses: list[float] = []
    for _ in tqdm(range(schedule.steps), desc="UNet", unit="step"):
        rows = torch.randint(0, len(pool.scenes), (schedule.batch,), generator=generator)
        raw = pool.mean[rows] + pool.std[rows] * torch.randn(pool.mean[rows].shape, generator=generator)
        latents = raw * LATENT_SCALE
        noise = torch.randn(latents.shape, generator=generator)
        timesteps = torch.randint(0, len(alphas_cumprod), (schedule.batch,), generator=generator)
        signal = alphas_cumprod[timesteps].sqrt().view(-1, 1, 1, 1)
        noisy = signal * latents + (1.0 - signal.square()).sqrt() * noise
        ids = captions.sample(
            [pool.scenes[int(row)] for row in rows],
            generator,
            schedule.phrase_dropout,
            schedule.caption_dropout,
        )
        captured.clear()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            context = text_encoder(ids).last_hidden_state
            prediction = unet(noisy, timesteps, context).sample
        per_sample = (prediction.float() - noise).square().mean(dim=(1, 2, 3))
        grounding = grounding_loss(captured, torch.isin(ids, object_ids), pool.cover[rows])
        loss = (per_sample * loss_weight[timesteps]).mean() + schedule.grounding_weight * grounding
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(unet.parameters()) + list(text_encoder.parameters()), 1.0)
        optimiser.step()
        scheduler.step()
        ema.update()
        losses.append(per_sample.mean().item())
        grounding_losses.append(grounding.item())
    unet_ema, text_encoder_ema = ema.shadows
    unet.set_attn_processor(AttnProcessor2_0())
    unet_ema.set_attn_processor(AttnProcessor2_0())
    return unet_ema, text_encoder_ema, {"diffusion": losses, "grounding": grounding_losses}
