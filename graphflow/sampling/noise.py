"""Seeded noise, drawn on the CPU in float32 so a seed gives the same image on every device.

- Starting noise is one ``randn`` over the whole latent shape from a generator seeded with ``seed``.
- With a latent ``batch_index`` (LatentFromBatch), noise is drawn row by row up to the largest index and the
  listed rows are taken, so a slice of a batch gets the noise it had in the full batch.
- With noise groups (:class:`~graphflow.sampling.hooks.SamplerHooks`), one row of noise is drawn per group and
  shared by the group's rows.
- Stochastic samplers draw their per-step noise from a second CPU generator (``seed + 1``, so it is not a copy
  of the starting noise); with noise groups, one generator per row, seeded per group.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

SEED_MASK = 2**64 - 1


def _generator(seed: int) -> torch.Generator:
    return torch.Generator("cpu").manual_seed(int(seed) & SEED_MASK)


def initial_noise(
    shape: Sequence[int],
    seed: int,
    batch_index: Sequence[int] | None = None,
    noise_groups: Sequence[int] | None = None,
) -> torch.Tensor:
    """Starting noise ``[B, C, H, W]`` (float32, CPU) for a latent of ``shape``."""
    shape = tuple(int(s) for s in shape)
    generator = _generator(seed)
    row_shape = (1, *shape[1:])
    if noise_groups is not None:
        if len(noise_groups) != shape[0]:
            raise ValueError(f"noise_groups has {len(noise_groups)} entries for {shape[0]} latent rows")
        drawn: dict[int, torch.Tensor] = {}
        for group in noise_groups:
            if group not in drawn:
                drawn[group] = torch.randn(row_shape, generator=generator, dtype=torch.float32)
        return torch.cat([drawn[g] for g in noise_groups])
    if batch_index is None:
        return torch.randn(shape, generator=generator, dtype=torch.float32)
    if len(batch_index) != shape[0]:
        raise ValueError(f"batch_index has {len(batch_index)} entries for {shape[0]} latent rows")
    rows = [
        torch.randn(row_shape, generator=generator, dtype=torch.float32) for _ in range(max(batch_index) + 1)
    ]
    return torch.cat([rows[i] for i in batch_index])


def step_generator(
    seed: int, batch_size: int, noise_groups: Sequence[int] | None = None
) -> torch.Generator | list[torch.Generator]:
    """The generator(s) a stochastic diffusers scheduler draws its per-step noise from."""
    if noise_groups is None:
        return _generator(seed + 1)
    if len(noise_groups) != batch_size:
        raise ValueError(f"noise_groups has {len(noise_groups)} entries for {batch_size} latent rows")
    return [_generator(seed + 1 + group) for group in noise_groups]


def row_seeds(seed: int, noise_groups: Sequence[int]) -> list[int]:
    """Per-row seeds for samplers seeded by value (Brownian-tree noise of ``dpmpp_sde``)."""
    return [(seed + 1 + group) & SEED_MASK for group in noise_groups]
