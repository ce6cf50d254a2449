"""The sampling loop: ComfyUI's KSampler semantics on a diffusers scheduler.

Noise levels are k-diffusion sigmas (``x = x0 + sigma * noise``); schedulers that work in DDIM's
variance-preserving space get ``x / sqrt(1 + sigma^2)``. Semantics (core-nodes.md, KSampler):

- the schedule is built for ``steps`` and run from ``start_step`` to ``end_step`` (denoise and
  KSamplerAdvanced are both expressed this way by the nodes);
- the input latent is noised to the first level: ``x0 + sigma * noise``, or ``x0 + sqrt(1 + sigma^2) * noise``
  when starting from the model's highest level (a full denoise);
- if the run stops before the schedule's end without leftover noise, the last step returns the model's clean
  estimate (the step to sigma 0); with leftover noise, the latent is returned at its current level;
- with a ``noise_mask`` the unmasked region is reset to the input latent, noised to the current level, before
  every model call, and to the input latent (at the final level) at the end.

Latents are raw on LATENT sockets: multiplied by ``model.latent_scale`` on entry, divided on exit.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from graphflow.sampling.guidance import Guider
from graphflow.sampling.hooks import SamplerHooks
from graphflow.sampling.noise import SEED_MASK, initial_noise, row_seeds, step_generator
from graphflow.sampling.schedulers import PreparedScheduler, build_scheduler

if TYPE_CHECKING:
    from graphflow.models.handles import DiffusionModel, NoiseSchedule


@dataclass(frozen=True)
class StepReport:
    """Progress after a completed step: ``done`` of ``total`` steps; ``denoised`` is the model's clean
    estimate of latent row 0 (scaled latent ``[C, H, W]``) when previews were asked for, else None."""

    done: int
    total: int
    denoised: torch.Tensor | None


class Levels:
    """Noise levels (k-diffusion sigma) of a prepared scheduler's positions."""

    def __init__(self, prepared: PreparedScheduler, schedule: NoiseSchedule) -> None:
        self.prepared = prepared
        self.scheduler = prepared.scheduler
        self.ve = prepared.recipe.space == "ve"
        alphas = getattr(self.scheduler, "alphas_cumprod", None)
        if alphas is None:  # pragma: no cover - every diffusers discrete scheduler has it
            raise TypeError(f"{type(self.scheduler).__name__} has no alphas_cumprod")
        self.alphas = alphas.double()
        self.sigma_max = float(((1 - self.alphas[-1]) / self.alphas[-1]).sqrt())

    def boundary(self, index: int) -> float:
        """The level of the sample before call ``index`` (``len(timesteps)``: after the last step)."""
        sigmas = getattr(self.scheduler, "sigmas", None)
        if sigmas is not None:
            return float(sigmas[index]) if index < len(sigmas) else 0.0
        timesteps = self.scheduler.timesteps
        if index >= len(timesteps):
            return 0.0  # DDIM with set_alpha_to_one and DDPM both end at alpha = 1
        alpha = self.alphas[int(timesteps[index])]
        return float(((1 - alpha) / alpha).sqrt())

    def at_call(self, index: int, timestep: Any) -> float:
        """The level the model is evaluated at for call ``index`` (midpoints of second-order samplers too)."""
        if not self.ve or getattr(self.scheduler, "state_in_first_order", True):
            return self.boundary(index)
        scale = float(self.scheduler.scale_model_input(torch.ones(1, dtype=torch.float64), timestep))
        return math.sqrt(max(1.0 / (scale * scale) - 1.0, 0.0))

    def to_space(self, x_ve: torch.Tensor, sigma: float) -> torch.Tensor:
        return x_ve if self.ve else x_ve / math.sqrt(1.0 + sigma * sigma)

    def from_space(self, x: torch.Tensor, sigma: float) -> torch.Tensor:
        return x if self.ve else x * math.sqrt(1.0 + sigma * sigma)


def predicted_clean(
    output: torch.Tensor, x: torch.Tensor, sigma: float, ve: bool, prediction_type: str
) -> torch.Tensor:
    """The model's estimate of the clean latent from its output at level ``sigma``."""
    norm = math.sqrt(1.0 + sigma * sigma)
    x_vp = x / norm if ve else x
    alpha, sigma_vp = 1.0 / norm, sigma / norm
    if prediction_type == "v_prediction":
        return alpha * x_vp - sigma_vp * output
    if prediction_type == "sample":
        return output
    return (x_vp - sigma_vp * output) / alpha


def latent_mask(noise_mask: Any, batch: int, height: int, width: int, device: Any) -> torch.Tensor | None:
    """A LATENT ``noise_mask`` (any resolution, batch 1 or B) as ``[B, 1, H, W]`` in 0..1 on ``device``."""
    if noise_mask is None:
        return None
    mask = torch.as_tensor(noise_mask).float()
    mask = mask.reshape(-1, 1, mask.shape[-2], mask.shape[-1])
    mask = F.interpolate(mask, size=(height, width), mode="bilinear", align_corners=False).clamp(0.0, 1.0)
    if mask.shape[0] < batch:
        mask = mask.repeat(math.ceil(batch / mask.shape[0]), 1, 1, 1)
    return mask[:batch].to(device)


def _stochastic_kwargs(
    prepared: PreparedScheduler, seed: int, batch: int, groups: Sequence[int] | None
) -> dict:
    if not prepared.recipe.stochastic:
        return {}
    if "generator" not in inspect.signature(prepared.scheduler.step).parameters:
        return {}  # seeded through its config (dpmpp_sde's Brownian tree)
    return {"generator": step_generator(seed, batch, groups)}


@torch.no_grad()
def sample(
    model: DiffusionModel,
    latent: Mapping[str, Any],
    positive: Sequence[Sequence[Any]],
    negative: Sequence[Sequence[Any]],
    *,
    sampler_name: str,
    scheduler_name: str,
    steps: int,
    cfg: float,
    seed: int,
    start_step: int = 0,
    end_step: int | None = None,
    add_noise: bool = True,
    return_leftover_noise: bool = False,
    hooks: SamplerHooks | None = None,
    on_step: Callable[[StepReport], None] | None = None,
    preview: bool = False,
) -> torch.Tensor:
    """Denoise ``latent["samples"]``; returns raw latents ``[B, C, H, W]`` (float32, CPU).

    Args:
        model: the MODEL handle (its weight patches are applied for the duration).
        latent: a LATENT dict (``samples``, optional ``noise_mask``, ``batch_index``).
        positive, negative: one CONDITIONING for all rows (``[cond]``) or one per latent row.
        sampler_name, scheduler_name: ComfyUI names (see :mod:`graphflow.sampling.schedulers`).
        steps: steps of the whole schedule; start_step/end_step: the slice to run (end None = the end).
        cfg: guidance scale; seed: noise seed (0 .. 2^64-1).
        add_noise: False to continue from a partly denoised latent (zero noise).
        return_leftover_noise: with an early end, return the latent at its level instead of denoised.
        hooks: extension points (:class:`SamplerHooks`); on_step: called after every completed step
            (it may raise to cancel); preview: compute the clean estimate for ``on_step``.
    """
    samples = latent["samples"]
    if samples.ndim != 4:
        raise ValueError(f"expected latent samples [B, C, H, W], got shape {list(samples.shape)}")
    batch, _, height, width = samples.shape
    device = model.device
    groups = hooks.noise_groups if hooks is not None else None
    x0 = samples.float().to(device) * model.latent_scale
    noise = (
        initial_noise(samples.shape, seed, latent.get("batch_index"), groups).to(device)
        if add_noise
        else torch.zeros_like(x0)
    )
    step_seed = (seed + 1) & SEED_MASK
    prepared = build_scheduler(
        sampler_name,
        scheduler_name,
        model.schedule,
        steps,
        step_seed,
        row_seeds(seed, groups) if groups else None,
    )
    scheduler, order = prepared.scheduler, prepared.order
    end = steps if end_step is None else min(end_step, steps)
    if start_step >= end:
        return samples.float().cpu().clone()
    begin, stop = start_step * order, min(end * order, len(scheduler.timesteps))
    if hasattr(scheduler, "set_begin_index"):
        scheduler.set_begin_index(begin)
    levels = Levels(prepared, model.schedule)
    sigma = levels.boundary(begin)
    full = sigma >= levels.sigma_max * (1 - 1e-5)
    x = levels.to_space(x0 + noise * (math.sqrt(1 + sigma * sigma) if full else sigma), sigma)
    mask = latent_mask(latent.get("noise_mask"), batch, height, width, device)
    sigma_end = levels.boundary(stop)
    last_call = (end - 1) * order if (not return_leftover_noise and sigma_end > 0) else -1
    step_kwargs = _stochastic_kwargs(prepared, seed, batch, groups)
    prediction = model.schedule.prediction_type

    clean: torch.Tensor | None = None

    def known(level: float) -> torch.Tensor:
        return levels.to_space(x0 + noise * level, level)

    with model.patched() as unet:
        guider = Guider(unet, positive, negative, cfg, batch, (height, width), hooks, _concat(unet, x0, mask))
        for index in range(begin, stop):
            timestep = scheduler.timesteps[index]
            sigma = levels.at_call(index, timestep)
            if mask is not None:
                x = known(sigma) * (1 - mask) + x * mask
            output = guider(
                scheduler.scale_model_input(x, timestep),
                timestep,
                step=index // order,
                total=steps,
                call=index,
                sigma=sigma,
            )
            if preview and (index - begin) % order == 0:  # the step's first evaluation is its estimate
                clean = predicted_clean(output, x, sigma, levels.ve, prediction)
            if index == last_call:
                x, sigma_end = predicted_clean(output, x, sigma, levels.ve, prediction), 0.0
                _report(on_step, end - start_step, end - start_step, x if preview else None)
                break
            x = scheduler.step(output, timestep, x, return_dict=False, **step_kwargs)[0]
            if (index - begin + 1) % order == 0 or index == stop - 1:
                if hooks is not None:
                    x = _after_step(hooks, index // order, steps, x)
                _report(on_step, index // order + 1 - start_step, end - start_step, clean)
    x = levels.from_space(x, sigma_end)
    if mask is not None:
        x = (x0 + noise * sigma_end) * (1 - mask) + x * mask
    return (x / model.latent_scale).float().cpu()


def _after_step(hooks: SamplerHooks, step: int, total: int, x: torch.Tensor) -> torch.Tensor:
    replaced = hooks.after_step(step, total, x)
    if replaced is None:
        return x
    if replaced.shape != x.shape:
        raise ValueError(f"after_step returned shape {list(replaced.shape)}, expected {list(x.shape)}")
    return replaced.to(x.dtype)


def _report(
    on_step: Callable[[StepReport], None] | None, done: int, total: int, clean: torch.Tensor | None
) -> None:
    if on_step is not None:
        on_step(StepReport(done, total, clean[0].detach().float().cpu() if clean is not None else None))


def _concat(unet: Any, x0: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor | None:
    """Extra UNet input for inpainting models (in_channels = 2 * C + 1): the mask and the masked latent."""
    channels = x0.shape[1]
    if int(getattr(unet.config, "in_channels", channels)) != 2 * channels + 1:
        return None
    region = mask if mask is not None else torch.ones_like(x0[:, :1])
    return torch.cat([region, x0], dim=1)


def denoise_slice(steps: int, denoise: float) -> tuple[int, int]:
    """KSampler's ``denoise``: (steps of the whole schedule, first step) so that ``steps`` steps remain.

    ``denoise < 1`` builds the schedule for ``int(steps / denoise)`` steps and keeps the last ``steps``.
    """
    if denoise >= 0.9999:
        return steps, 0
    total = int(steps / denoise)
    return total, total - steps
