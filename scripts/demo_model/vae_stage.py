"""VAE stages: train the autoencoder, check its reconstructions, and put its latents on SD1's scale."""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from data import background_tensor, crop_around_shapes, foreground_weight, images_to_tensor
from grounding import coverage
from tqdm import tqdm

from graphflow.demo.architecture import LATENT_SCALE
from graphflow.demo.classify import classify
from graphflow.demo.shapes import Example, evaluation_examples, training_examples


@dataclass(frozen=True)
class VaeSchedule:
    """Steps of the two phases: shape-centred crops (cheap, every pixel near a shape) then whole images.

    The whole-image phase matters: group norms see different statistics on crops than on 128 px images.
    ``colour_weight`` scales the colour-probe loss (see ``train_vae``); 0 turns it off.
    """

    crop_steps: int = 500
    crop_batch: int = 32
    crop_size: int = 64
    full_steps: int = 150
    full_batch: int = 8
    learning_rate: float = 1e-3
    warmup_steps: int = 30
    foreground_boost: float = 4.0
    kl_weight: float = 1e-6
    colour_weight: float = 1.0
    seed: int = 1


def _learning_rate_factor(step: int, total: int, warmup: int) -> float:
    """Linear warm-up, then cosine decay to 5% of the peak."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * progress))


def train_vae(vae: torch.nn.Module, schedule: VaeSchedule) -> list[float]:
    """Train ``vae`` in place with weighted L1+L2 reconstruction loss; returns that loss per step.

    A linear colour probe (1×1 conv, latent → RGB, trained alongside and then dropped) must read each latent
    cell's mean image colour from the posterior mean. Without it, how far apart two shape colours land in
    latent space was left to chance: one run put yellow and green close enough that the UNet drew yellow
    shapes green (docs/demo-model.md). With it, colour is a linear direction of the latent, as in SD's VAE.
    """
    torch.manual_seed(schedule.seed)
    crop_rng = random.Random(schedule.seed)
    total = schedule.crop_steps + schedule.full_steps
    count = schedule.crop_steps * schedule.crop_batch + schedule.full_steps * schedule.full_batch
    examples = training_examples(count, seed=schedule.seed)
    probe = torch.nn.Conv2d(vae.config.latent_channels, 3, kernel_size=1)
    downsample = 2 ** (len(vae.config.block_out_channels) - 1)
    parameters = [*vae.parameters(), *probe.parameters()]
    optimiser = torch.optim.AdamW(parameters, lr=schedule.learning_rate, betas=(0.9, 0.99), weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: _learning_rate_factor(step, total, schedule.warmup_steps)
    )
    losses: list[float] = []
    vae.train()
    for step in tqdm(range(total), desc="VAE", unit="step"):
        cropping = step < schedule.crop_steps
        batch = [next(examples) for _ in range(schedule.crop_batch if cropping else schedule.full_batch)]
        images = images_to_tensor(batch)
        if cropping:
            images = crop_around_shapes(images, batch, schedule.crop_size, crop_rng)
        weight = foreground_weight(images, background_tensor(batch), schedule.foreground_boost)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            posterior = vae.encode(images).latent_dist
            decoded = vae.decode(posterior.sample()).sample
        error = decoded.float() - images
        reconstruction = (error.abs() * weight).mean() + (error.square() * weight).mean()
        kl = posterior.kl().float().mean() / images[0].numel()
        colour = (probe(posterior.mean.float()) - F.avg_pool2d(images, downsample)).square().mean()
        loss = reconstruction + schedule.kl_weight * kl + schedule.colour_weight * colour
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimiser.step()
        scheduler.step()
        losses.append(reconstruction.item())
    vae.eval()
    return losses


@torch.no_grad()
def reconstruct(vae: torch.nn.Module, examples: list[Example], batch_size: int = 50) -> torch.Tensor:
    """Encode (posterior mean) and decode ``examples``; uint8 ``[N, 128, 128, 3]``."""
    outputs = []
    for start in range(0, len(examples), batch_size):
        images = images_to_tensor(examples[start : start + batch_size])
        decoded = vae.decode(vae.encode(images).latent_dist.mode()).sample
        outputs.append(((decoded.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1))
    return torch.cat(outputs)


def check_reconstructions(vae: torch.nn.Module, count: int = 200) -> dict[str, float]:
    """Percent of reconstructions whose classified attributes match the scene, plus PSNR in dB.

    Uses the held-out scenes and fresh random training scenes, ``count`` in all.
    """
    examples = evaluation_examples()[: count // 2]
    examples += list(training_examples(count - len(examples), seed=987_654))
    reconstructions = reconstruct(vae, examples)
    originals = images_to_tensor(examples)
    restored = reconstructions.permute(0, 3, 1, 2).float() / 127.5 - 1.0
    mse = float((restored - originals).square().mean())
    scores = {"colour": 0.0, "shape": 0.0, "size": 0.0, "position": 0.0, "background": 0.0}
    for example, image in zip(examples, reconstructions.numpy(), strict=True):
        for name, ok in classify(image).matches(example.scene).items():
            scores[name] += 100.0 * ok / len(examples)
    scores["psnr_db"] = 10 * math.log10(4.0 / max(mse, 1e-12))
    return scores


@torch.no_grad()
def colour_separation(vae: torch.nn.Module, count: int = 1200, seed: int = 31_337) -> dict[str, float]:
    """How far apart shape colours sit in latent space, per colour pair (Fisher ratio, higher is better).

    Each image gives one vector: the posterior mean averaged over latent cells its shape covers by ≥ 90%.
    The ratio is the distance between two colours' mean vectors over their pooled spread (which includes
    background, size and position). Keys ``"<colour>-<colour>"``; the UNet confuses pairs that score low.
    """
    examples = list(training_examples(count, seed=seed))
    vectors: dict[str, list[torch.Tensor]] = {}
    for start in range(0, count, 100):
        batch = examples[start : start + 100]
        images = images_to_tensor(batch)
        latents = vae.encode(images).latent_dist.mean.float()
        cover = coverage(images, background_tensor(batch)) >= 0.9
        for example, latent, cells in zip(batch, latents, cover, strict=True):
            if cells.any():
                vectors.setdefault(example.scene.colour, []).append(latent[:, cells].mean(dim=1))
    stacked = {colour: torch.stack(rows) for colour, rows in sorted(vectors.items())}
    ratios = {}
    for first, second in itertools.combinations(stacked, 2):
        a, b = stacked[first], stacked[second]
        spread = ((a.var(dim=0).sum() + b.var(dim=0).sum()) / 2).sqrt()
        ratios[f"{first}-{second}"] = float((a.mean(dim=0) - b.mean(dim=0)).norm() / spread)
    return ratios


@torch.no_grad()
def normalise_latent_space(
    vae: torch.nn.Module, count: int = 512, seed: int = 4242
) -> dict[str, list[float]]:
    """Fold a per-channel affine map into the VAE so raw latents have mean 0 and std 1/0.18215.

    SD1 loaders multiply raw latents by 0.18215 before diffusion. With the fold, that product has unit
    variance, so no extra metadata is needed. Encoder side: ``quant_conv`` output rows of the mean become
    ``k·(mean − m)`` and the log-variance rows gain ``2·ln k``; decoder side: ``post_quant_conv`` undoes it.
    Returns the measured ``mean`` and ``std`` (before folding) per channel.
    """
    examples = list(training_examples(count, seed=seed))
    means = torch.cat(
        [vae.encode(images_to_tensor(examples[i : i + 64])).latent_dist.mean for i in range(0, count, 64)]
    )
    channel_mean = means.mean(dim=(0, 2, 3))
    channel_std = means.std(dim=(0, 2, 3))
    factor = (1.0 / LATENT_SCALE) / channel_std
    channels = channel_mean.numel()
    quant, post_quant = vae.quant_conv, vae.post_quant_conv
    quant.weight[:channels] *= factor.view(-1, 1, 1, 1)
    quant.bias[:channels] = (quant.bias[:channels] - channel_mean) * factor
    quant.bias[channels:] += 2.0 * torch.log(factor)
    post_quant.bias += (post_quant.weight[:, :, 0, 0] * channel_mean).sum(dim=1)
    post_quant.weight /= factor.view(1, -1, 1, 1)
    return {"mean": channel_mean.tolist(), "std": channel_std.tolist()}
