"""Extension points of the sampling loop.

The attention-editing features (prompt-to-prompt, MasaCtrl) need three things from a sampler, all provided
here without the loop knowing about attention:

- **several prompts sampled together** from the same starting noise: pass one conditioning per latent row
  (:func:`graphflow.sampling.loop.sample` ``positive=[cond_row0, cond_row1, ...]``) and give the rows the same
  noise group;
- **the step before every UNet call**: :meth:`SamplerHooks.before_unet` receives a :class:`UnetCall` (step,
  timestep, which latent row and which CFG half each batch row is) and may return extra UNet keyword
  arguments, e.g. ``{"cross_attention_kwargs": {...}}``;
- **shared per-step noise** for ancestral/SDE samplers: rows in one noise group get identical noise at the
  start and at every stochastic step;
- **the latents after every step**: :meth:`SamplerHooks.after_step` sees (and may replace) the sample after
  each completed step, e.g. to blend an edited row back onto its source outside a mask.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class UnetCall:
    """What one UNet evaluation is about to compute.

    ``step``: the sampling step in the full schedule (0-based); ``total_steps``: steps of that schedule;
    ``call``: index of this evaluation within the scheduler's timesteps (second-order samplers make two per
    step); ``timestep``: the UNet timestep; ``sigma``: the noise level (k-diffusion sigma);
    ``rows``: the latent row of each batch row; ``unconditional``: True where the batch row is a negative
    (CFG) pass; ``area``: ``(height, width, y, x)`` in latent units when only a region is evaluated.
    """

    step: int
    total_steps: int
    call: int
    timestep: Any
    sigma: float
    rows: tuple[int, ...]
    unconditional: tuple[bool, ...]
    area: tuple[int, int, int, int] | None = None


class SamplerHooks:
    """Base class: override what you need. The default changes nothing.

    ``noise_groups``: one group id per latent row, or None. Rows with the same id share their starting noise
    and the noise of every stochastic step (e.g. ``(0, 0)`` for a source and an edited prompt).
    """

    noise_groups: tuple[int, ...] | None = None

    def before_unet(self, call: UnetCall) -> Mapping[str, Any] | None:
        """Called before every UNet forward; return extra keyword arguments for that call, or None."""
        return None

    def after_step(self, step: int, total_steps: int, x: torch.Tensor) -> torch.Tensor | None:
        """Called after step ``step`` (0-based) of ``total_steps`` completed with the new sample ``x``
        ``[B, C, H, W]`` (in the scheduler's space; edits that mix rows linearly need not care which); return a
        replacement of the same shape, or None to keep it. Not called after a run's final clean estimate."""
        return None
