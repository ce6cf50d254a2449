"""Classifier-free guidance over ComfyUI conditioning lists.

Each conditioning entry ``[embedding [1, T, D], options]`` is evaluated on its own: on the whole latent, or on
its ``area`` ``(height, width, y, x)`` (latent units) with edges that do not touch the border feathered over
8 latent pixels. The predictions of all entries of one side are averaged per pixel, weighted by the entry's
``strength`` (and ``mask`` when present). Then ``uncond + cfg * (cond - uncond)``; with ``cfg == 1`` the
negative side is not evaluated at all.

UNet calls are batched: all entries evaluated on the same area go into one forward (negative rows first, like
diffusers' pipelines), with token sequences of different lengths tiled to a common length (tiling every key
and value k times leaves cross-attention unchanged).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from graphflow.sampling.hooks import SamplerHooks, UnetCall

FEATHER = 8
MAX_TILING = 4
Area = tuple[int, int, int, int]


@dataclass(frozen=True)
class CondEntry:
    """One prepared conditioning entry (tensors on the UNet's device)."""

    embeds: torch.Tensor  # [1 or B, T, D]
    area: Area | None  # (height, width, y, x) in latent units, inside the latent
    weight: torch.Tensor  # [1, 1, h, w] strength x feather x mask over the area (or the whole latent)
    added: Mapping[str, torch.Tensor] | None  # SDXL: text_embeds [1, P], time_ids [1, 6]


@dataclass(frozen=True)
class Job:
    unconditional: bool
    rows: tuple[int, ...]
    entry: CondEntry


def _feather(height: int, width: int, y: int, x: int, full_h: int, full_w: int) -> torch.Tensor:
    """1 inside, ramping up over :data:`FEATHER` pixels from every edge that is not the latent's border."""
    weight = torch.ones(height, width)
    ramp_h = ((torch.arange(height) + 1) / FEATHER).clamp(max=1.0)
    ramp_w = ((torch.arange(width) + 1) / FEATHER).clamp(max=1.0)
    if y > 0:
        weight *= ramp_h[:, None]
    if y + height < full_h:
        weight *= ramp_h.flip(0)[:, None]
    if x > 0:
        weight *= ramp_w[None, :]
    if x + width < full_w:
        weight *= ramp_w.flip(0)[None, :]
    return weight


def _area(options: Mapping[str, Any], full_h: int, full_w: int) -> Area | None:
    area = options.get("area")
    if area is None or len(area) != 4 or isinstance(area[0], str):  # percentage areas are not supported
        return None
    height, width, y, x = (int(v) for v in area)
    y, x = min(max(y, 0), full_h), min(max(x, 0), full_w)
    return (max(min(height, full_h - y), 0), max(min(width, full_w - x), 0), y, x)


def _sdxl_inputs(
    options: Mapping[str, Any], pooled: Any, full_h: int, full_w: int
) -> dict[str, torch.Tensor]:
    if pooled is None:
        raise ValueError(
            "this is an SDXL model but the conditioning has no pooled_output; encode the prompt with the "
            "SDXL checkpoint's CLIP"
        )
    height = options.get("height", full_h * 8)
    width = options.get("width", full_w * 8)
    values = [
        height,
        width,
        options.get("crop_h", 0),
        options.get("crop_w", 0),
        options.get("target_height", height),
        options.get("target_width", width),
    ]
    return {
        "text_embeds": torch.as_tensor(pooled).float().reshape(1, -1),
        "time_ids": torch.tensor([values]).float(),
    }


def prepare_entries(
    conditioning: Sequence[Any], latent_hw: tuple[int, int], device: Any, dtype: Any, sdxl: bool
) -> list[CondEntry]:
    """Turn a CONDITIONING value into :class:`CondEntry` objects (entries with no area left are dropped)."""
    full_h, full_w = latent_hw
    entries = []
    for item in conditioning:
        embedding, options = item[0], item[1] if len(item) > 1 else {}
        area = _area(options, full_h, full_w)
        if area is not None and (area[0] == 0 or area[1] == 0):
            continue
        height, width, y, x = area or (full_h, full_w, 0, 0)
        weight = float(options.get("strength", 1.0)) * (
            _feather(height, width, y, x, full_h, full_w) if area else torch.ones(height, width)
        )
        mask = options.get("mask")
        if mask is not None:
            mask = torch.as_tensor(mask).float().reshape(-1, 1, *torch.as_tensor(mask).shape[-2:])[:1]
            mask = F.interpolate(mask, size=(full_h, full_w), mode="bilinear", align_corners=False)[0, 0]
            weight = weight * mask[y : y + height, x : x + width] * float(options.get("mask_strength", 1.0))
        embeds = torch.as_tensor(embedding).to(device=device, dtype=dtype)
        if embeds.ndim == 2:
            embeds = embeds.unsqueeze(0)
        added = _sdxl_inputs(options, options.get("pooled_output"), full_h, full_w) if sdxl else None
        if added is not None:
            added = {k: v.to(device=device, dtype=dtype) for k, v in added.items()}
        entries.append(CondEntry(embeds, area, weight.to(device)[None, None], added))
    return entries


def _rows_embeds(entry: CondEntry, rows: tuple[int, ...], length: int) -> torch.Tensor:
    embeds = entry.embeds
    embeds = embeds.expand(len(rows), -1, -1) if embeds.shape[0] == 1 else embeds[list(rows)]
    tokens = embeds.shape[1]
    return embeds.repeat(1, length // tokens, 1) if length != tokens else embeds


def _plan(jobs: list[Job]) -> list[list[Job]]:
    """Group jobs into UNet calls: same area; token lengths tiled to their lcm unless that gets large."""
    by_area: dict[Area | None, list[Job]] = {}
    for job in jobs:
        by_area.setdefault(job.entry.area, []).append(job)
    calls = []
    for group in by_area.values():
        lengths = sorted({job.entry.embeds.shape[1] for job in group})
        if math.lcm(*lengths) <= MAX_TILING * lengths[-1]:
            calls.append(group)
        else:
            calls.extend([j for j in group if j.entry.embeds.shape[1] == n] for n in lengths)
    return calls


class Guider:
    """Computes the guided model output for the scheduler's (scaled) sample.

    Args:
        unet: the diffusers UNet (already patched).
        positive, negative: one CONDITIONING per latent row, or one for all rows.
        cfg: guidance scale.
        batch: latent rows; latent_hw: latent height and width.
        hooks: :class:`SamplerHooks` told about every UNet call.
        concat: extra input channels for inpainting UNets ``[B, k, H, W]`` (mask and masked-image latent).
    """

    def __init__(
        self,
        unet: Any,
        positive: Sequence[Sequence[Any]],
        negative: Sequence[Sequence[Any]],
        cfg: float,
        batch: int,
        latent_hw: tuple[int, int],
        hooks: SamplerHooks | None = None,
        concat: torch.Tensor | None = None,
    ) -> None:
        self.unet, self.cfg, self.batch, self.hooks, self.concat = unet, float(cfg), batch, hooks, concat
        self.dtype = next(unet.parameters()).dtype
        device = next(unet.parameters()).device
        sdxl = getattr(unet.config, "addition_embed_type", None) == "text_time"
        sides = [(False, positive)] if self.cfg == 1.0 else [(True, negative), (False, positive)]
        jobs = []
        for unconditional, per_row in sides:
            if len(per_row) not in (1, batch):
                raise ValueError(
                    f"expected 1 or {batch} conditionings (one per latent row), got {len(per_row)}"
                )
            for index, conditioning in enumerate(per_row):
                rows = tuple(range(batch)) if len(per_row) == 1 else (index,)
                for entry in prepare_entries(conditioning, latent_hw, device, self.dtype, sdxl):
                    _check_width(entry, unet)
                    jobs.append(Job(unconditional, rows, entry))
        if not any(not job.unconditional for job in jobs):
            raise ValueError("the positive conditioning is empty (no entry covers the latent)")
        self.calls = _plan(jobs)

    def __call__(
        self, x_in: torch.Tensor, timestep: Any, *, step: int, total: int, call: int, sigma: float
    ) -> torch.Tensor:
        sums = {u: torch.zeros_like(x_in) for u in (False, True)}
        counts = {u: torch.zeros_like(x_in[:, :1]) for u in (False, True)}
        for jobs in self.calls:
            area = jobs[0].entry.area
            height, width, y, x = area or (x_in.shape[2], x_in.shape[3], 0, 0)
            region = (slice(None), slice(None), slice(y, y + height), slice(x, x + width))
            length = math.lcm(*{job.entry.embeds.shape[1] for job in jobs})
            inputs, embeds, added = [], [], []
            for job in jobs:
                sample = x_in[list(job.rows)][region]
                if self.concat is not None:
                    sample = torch.cat([sample, self.concat[list(job.rows)][region]], dim=1)
                inputs.append(sample)
                embeds.append(_rows_embeds(job.entry, job.rows, length))
                if job.entry.added is not None:
                    added.append({k: v.expand(len(job.rows), -1) for k, v in job.entry.added.items()})
            rows = tuple(r for job in jobs for r in job.rows)
            flags = tuple(job.unconditional for job in jobs for _ in job.rows)
            extra = dict(self._hook(UnetCall(step, total, call, timestep, sigma, rows, flags, area)) or {})
            if added:
                extra["added_cond_kwargs"] = {k: torch.cat([a[k] for a in added]) for k in added[0]}
            prediction = self.unet(
                torch.cat(inputs).to(self.dtype),
                timestep,
                encoder_hidden_states=torch.cat(embeds),
                return_dict=False,
                **extra,
            )[0].float()[:, : x_in.shape[1]]
            start = 0
            for job in jobs:
                part = prediction[start : start + len(job.rows)]
                start += len(job.rows)
                index = (list(job.rows), *region[1:])
                sums[job.unconditional][index] += part * job.entry.weight
                counts[job.unconditional][index] += job.entry.weight
        cond = sums[False] / counts[False].clamp_min(1e-37)
        if self.cfg == 1.0:
            return cond
        uncond = sums[True] / counts[True].clamp_min(1e-37)
        return uncond + self.cfg * (cond - uncond)

    def _hook(self, call: UnetCall) -> Mapping[str, Any] | None:
        return self.hooks.before_unet(call) if self.hooks is not None else None


def _check_width(entry: CondEntry, unet: Any) -> None:
    expected = getattr(unet.config, "cross_attention_dim", None)
    if isinstance(expected, int) and entry.embeds.shape[-1] != expected:
        raise ValueError(
            f"the conditioning has {entry.embeds.shape[-1]} features per token but the model expects {expected}: "
            "encode the prompt with the CLIP of the same checkpoint as the model"
        )
