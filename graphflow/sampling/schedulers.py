"""ComfyUI ``sampler_name`` x ``scheduler`` mapped onto diffusers schedulers.

A *sampler* picks the diffusers scheduler class and its solver options; a *scheduler* (ComfyUI's word for the
noise-level spacing) picks ``timestep_spacing`` and the ``use_*_sigmas`` flags. The full table, with the
approximations, is in ``docs/sampling.md``. Rules beyond the two tables:

- ``ddim`` runs on diffusers' ``DDIMScheduler`` for the uniform spacings it steps exactly (``ddim_uniform``,
  ``simple``, ``sgm_uniform``); for ``normal``, ``karras``, ``exponential`` and ``beta`` it is the Euler
  step on those noise levels, which is what ComfyUI's ``ddim`` is and what deterministic DDIM equals.
- Schedulers without the ``use_*_sigmas`` options get the noise levels of an ``EulerDiscreteScheduler``
  configured with them: ``euler_ancestral`` takes its sigma and timestep tables, ``ddpm`` its timesteps
  (rounded to whole training steps, duplicates dropped).
- The multistep DPM-Solver++ samplers take ``normal`` as explicit timesteps ``round(linspace(999, 0, n))``,
  because their own ``linspace`` spacing leaves out the last level (it equals ``sgm_uniform``).
- ``*_gpu`` samplers are their base sampler: graphflow always draws noise on the CPU, so results do not
  depend on the device.

diffusers is imported inside the functions; importing this module is cheap.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from graphflow.models.handles import NoiseSchedule

Space = Literal["ve", "vp"]


@dataclass(frozen=True)
class SamplerRecipe:
    """How to build one sampler.

    ``space``: ``"ve"`` when the scheduler's sample is ``x0 + sigma * noise`` (k-diffusion style, scaled by
    ``scale_model_input``), ``"vp"`` when it is ``alpha * x0 + sigma_vp * noise`` (DDIM style).
    ``sigma_options``: the class understands ``use_karras_sigmas`` / ``use_exponential_sigmas`` /
    ``use_beta_sigmas``.
    """

    scheduler: str
    space: Space
    options: Mapping[str, Any] = field(default_factory=dict)
    stochastic: bool = False
    sigma_options: bool = True


_DPMPP = "DPMSolverMultistepScheduler"
_DPMPP_2M = {"algorithm_type": "dpmsolver++", "solver_order": 2, "solver_type": "midpoint"}
_DPMPP_2M_SDE = {"algorithm_type": "sde-dpmsolver++", "solver_order": 2, "solver_type": "midpoint"}
_DPMPP_3M_SDE = {"algorithm_type": "sde-dpmsolver++", "solver_order": 3}

# In ComfyUI's order (comfy/samplers.py KSAMPLER_NAMES + ddim, uni_pc, uni_pc_bh2), implemented ones only.
SAMPLERS: dict[str, SamplerRecipe] = {
    "euler": SamplerRecipe("EulerDiscreteScheduler", "ve"),
    "euler_ancestral": SamplerRecipe(
        "EulerAncestralDiscreteScheduler", "ve", stochastic=True, sigma_options=False
    ),
    "heun": SamplerRecipe("HeunDiscreteScheduler", "ve"),
    "dpm_2": SamplerRecipe("KDPM2DiscreteScheduler", "ve"),
    "dpm_2_ancestral": SamplerRecipe("KDPM2AncestralDiscreteScheduler", "ve", stochastic=True),
    "lms": SamplerRecipe("LMSDiscreteScheduler", "ve"),
    "dpmpp_sde": SamplerRecipe("DPMSolverSDEScheduler", "ve", stochastic=True),
    "dpmpp_sde_gpu": SamplerRecipe("DPMSolverSDEScheduler", "ve", stochastic=True),
    "dpmpp_2m": SamplerRecipe(_DPMPP, "vp", _DPMPP_2M),
    "dpmpp_2m_sde": SamplerRecipe(_DPMPP, "vp", _DPMPP_2M_SDE, stochastic=True),
    "dpmpp_2m_sde_gpu": SamplerRecipe(_DPMPP, "vp", _DPMPP_2M_SDE, stochastic=True),
    "dpmpp_3m_sde": SamplerRecipe(_DPMPP, "vp", _DPMPP_3M_SDE, stochastic=True),
    "dpmpp_3m_sde_gpu": SamplerRecipe(_DPMPP, "vp", _DPMPP_3M_SDE, stochastic=True),
    "ddpm": SamplerRecipe(
        "DDPMScheduler",
        "vp",
        {"clip_sample": False, "variance_type": "fixed_small"},
        True,
        sigma_options=False,
    ),
    "deis": SamplerRecipe("DEISMultistepScheduler", "vp", {"algorithm_type": "deis", "solver_order": 3}),
    "ddim": SamplerRecipe(
        "DDIMScheduler", "vp", {"clip_sample": False, "set_alpha_to_one": True}, sigma_options=False
    ),
    # bh1 stepping to sigma 0 divides by zero in diffusers; ending at sigma_min lets the loop's final
    # "return the denoised estimate" step finish it instead.
    "uni_pc": SamplerRecipe(
        "UniPCMultistepScheduler",
        "vp",
        {"solver_type": "bh1", "solver_order": 3, "final_sigmas_type": "sigma_min"},
    ),
    "uni_pc_bh2": SamplerRecipe("UniPCMultistepScheduler", "vp", {"solver_type": "bh2", "solver_order": 3}),
}

# In ComfyUI's order (SCHEDULER_HANDLERS), implemented ones only.
SCHEDULES: dict[str, dict[str, Any]] = {
    "simple": {"timestep_spacing": "trailing"},
    "sgm_uniform": {"timestep_spacing": "trailing"},
    "karras": {"timestep_spacing": "linspace", "use_karras_sigmas": True},
    "exponential": {"timestep_spacing": "linspace", "use_exponential_sigmas": True},
    "ddim_uniform": {"timestep_spacing": "leading", "steps_offset": 1},
    "beta": {"timestep_spacing": "linspace", "use_beta_sigmas": True},
    "normal": {"timestep_spacing": "linspace"},
}

SAMPLER_NAMES: tuple[str, ...] = tuple(SAMPLERS)
SCHEDULER_NAMES: tuple[str, ...] = tuple(SCHEDULES)
SIGMA_FLAGS = ("use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas")
DDIM_EXACT_SCHEDULES = ("ddim_uniform", "simple", "sgm_uniform")


@dataclass
class PreparedScheduler:
    """A diffusers scheduler with its timesteps set for ``steps`` steps, and the recipe it follows."""

    scheduler: Any
    recipe: SamplerRecipe
    steps: int

    @property
    def order(self) -> int:
        return int(getattr(self.scheduler, "order", 1))

    @property
    def timesteps(self) -> Any:
        return self.scheduler.timesteps


def effective_recipe(sampler_name: str, scheduler_name: str) -> SamplerRecipe:
    """The recipe actually used for a pair (``ddim`` falls back to Euler where DDIM cannot step exactly)."""
    if sampler_name not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler_name!r}; supported: {', '.join(SAMPLER_NAMES)}")
    if scheduler_name not in SCHEDULES:
        raise ValueError(f"unknown scheduler {scheduler_name!r}; supported: {', '.join(SCHEDULER_NAMES)}")
    if sampler_name == "ddim" and scheduler_name not in DDIM_EXACT_SCHEDULES:
        return SAMPLERS["euler"]
    return SAMPLERS[sampler_name]


def _config_for(cls: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    """The subset of ``values`` that ``cls.__init__`` accepts (diffusers warns about the others)."""
    accepted = inspect.signature(cls.__init__).parameters
    return {key: value for key, value in values.items() if key in accepted}


def build_scheduler(
    sampler_name: str,
    scheduler_name: str,
    schedule: NoiseSchedule,
    steps: int,
    seed: int = 0,
    row_seeds: Sequence[int] | None = None,
) -> PreparedScheduler:
    """Create the diffusers scheduler for a ComfyUI sampler/scheduler pair and set it for ``steps`` steps.

    Args:
        sampler_name, scheduler_name: ComfyUI names (:data:`SAMPLER_NAMES`, :data:`SCHEDULER_NAMES`).
        schedule: the model's training noise schedule (betas, prediction type).
        steps: steps of the whole schedule (before any denoise / start-step slicing).
        seed: seeds the Brownian-tree noise of ``dpmpp_sde``.
        row_seeds: one seed per latent row instead (rows with equal seeds get equal noise).
    """
    import diffusers

    recipe = effective_recipe(sampler_name, scheduler_name)
    cls = getattr(diffusers, recipe.scheduler)
    spacing = SCHEDULES[scheduler_name]
    base = dict(schedule.scheduler_config())
    wanted = {**base, **recipe.options, **spacing}
    if recipe.scheduler == "DPMSolverSDEScheduler":
        wanted["noise_sampler_seed"] = list(row_seeds) if row_seeds is not None else seed
    uses_flags = any(spacing.get(flag) for flag in SIGMA_FLAGS)
    scheduler = cls.from_config(_config_for(cls, wanted))
    if uses_flags and not recipe.sigma_options:
        _borrow_euler_levels(scheduler, recipe, {**base, **spacing}, steps)
    elif scheduler_name == "normal" and recipe.scheduler == _DPMPP:
        scheduler.set_timesteps(timesteps=_normal_timesteps(schedule.num_train_timesteps, steps))
    else:
        scheduler.set_timesteps(steps)
    return PreparedScheduler(scheduler, recipe, steps)


def _normal_timesteps(num_train_timesteps: int, steps: int) -> list[int]:
    import numpy as np

    points = np.linspace(num_train_timesteps - 1, 0, steps).round().astype(np.int64)
    return list(dict.fromkeys(points.tolist()))


def _borrow_euler_levels(
    scheduler: Any, recipe: SamplerRecipe, config: Mapping[str, Any], steps: int
) -> None:
    """Give a scheduler without ``use_*_sigmas`` the noise levels an Euler scheduler computes with them."""
    from diffusers import EulerDiscreteScheduler

    reference = EulerDiscreteScheduler.from_config(_config_for(EulerDiscreteScheduler, config))
    reference.set_timesteps(steps)
    if recipe.space == "ve":  # sigma-table schedulers: same table layout as Euler's
        scheduler.set_timesteps(steps)
        scheduler.sigmas = reference.sigmas.clone()
        scheduler.timesteps = reference.timesteps.clone()
        return
    whole = reference.timesteps.round().long().unique_consecutive()
    scheduler.set_timesteps(timesteps=whole.tolist())
