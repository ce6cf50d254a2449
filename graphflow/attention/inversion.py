"""DDIM inversion (spec §3.7): run DDIM backwards from a clean latent to noise, keeping every latent.

The noise estimate at each step uses the current latent with the *next* (higher) timestep's label, the usual
approximation. The trajectory lets the source branch of an edit follow the inversion exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from graphflow.sampling.guidance import Guider
from graphflow.sampling.schedulers import build_scheduler

if TYPE_CHECKING:
    from graphflow.models.handles import DiffusionModel

INVERSION_SAMPLER, INVERSION_SCHEDULER = "ddim", "ddim_uniform"


@dataclass(frozen=True, eq=False)
class Inversion:
    """``latents[i]``: the scaled (model-space) latent before sampling step ``i`` of a ``steps``-step DDIM
    run over ``timesteps`` (descending); ``latents[steps]`` is the clean input."""

    steps: int
    timesteps: tuple[int, ...]
    latents: tuple[torch.Tensor, ...]


@torch.no_grad()
def ddim_invert(
    model: DiffusionModel,
    samples: torch.Tensor,
    positive: Sequence[Any],
    negative: Sequence[Any],
    steps: int,
    cfg: float,
) -> Inversion:
    """Invert raw latents ``samples [B, C, H, W]`` under the given conditioning (CFG as in sampling)."""
    if model.schedule.prediction_type != "epsilon":
        raise ValueError("DDIMInversion supports epsilon-prediction models only")
    prepared = build_scheduler(INVERSION_SAMPLER, INVERSION_SCHEDULER, model.schedule, steps)
    scheduler = prepared.scheduler
    alphas = scheduler.alphas_cumprod.double()
    final = float(getattr(scheduler, "final_alpha_cumprod", alphas[0]))
    timesteps = [int(t) for t in scheduler.timesteps]
    device = model.device
    z = samples.float().to(device) * model.latent_scale
    batch, _, height, width = z.shape
    trajectory = [z.cpu()]
    with model.patched() as unet:
        guider = Guider(unet, [positive], [negative], cfg, batch, (height, width))
        ascending = timesteps[::-1]
        for index, t_next in enumerate(ascending):
            t_prev = ascending[index - 1] if index > 0 else -1
            a_prev = float(alphas[t_prev]) if t_prev >= 0 else final
            a_next = float(alphas[t_next])
            sigma = math.sqrt((1 - a_next) / a_next)
            eps = guider(
                z.to(model.dtype), torch.tensor(t_next), step=index, total=steps, call=index, sigma=sigma
            )
            clean = (z - math.sqrt(1 - a_prev) * eps) / math.sqrt(a_prev)
            z = math.sqrt(a_next) * clean + math.sqrt(1 - a_next) * eps
            trajectory.append(z.cpu())
    return Inversion(steps, tuple(timesteps), tuple(reversed(trajectory)))


def start_latent(inversion: Inversion, model: DiffusionModel) -> torch.Tensor:
    """The raw LATENT samples that graphflow's sampler (``add_noise`` off) turns into ``z_T`` exactly:
    k-diffusion convention ``z_T · sqrt(1 + σ_T²)``, divided by the latent scale."""
    prepared = build_scheduler(INVERSION_SAMPLER, INVERSION_SCHEDULER, model.schedule, inversion.steps)
    alpha = float(prepared.scheduler.alphas_cumprod[inversion.timesteps[0]])
    return inversion.latents[0] / math.sqrt(alpha) / model.latent_scale
