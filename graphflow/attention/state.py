"""The state one sampling run shares with all installed processors (spec §4.3).

The sampler hook sets :attr:`EditState.call` before every UNet forward, so processors know the step and
which batch row is which (latent row, conditional or not) without counting attention calls. The state also
holds the cross-attention maps recorded in this run (running sums over UNet calls, for heat-maps and
LocalBlend) and those of the current call (for MasaCtrl's auto mask).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from graphflow.sampling.hooks import UnetCall


@dataclass(frozen=True)
class Layout:
    """Batch positions of a UNet call: ``halves`` lists, per CFG half (uncond first), the batch index of each
    latent row (``-1`` when that row is missing from the call)."""

    halves: tuple[tuple[int, ...], ...]
    cond: tuple[int, ...]

    @staticmethod
    def of(call: UnetCall, rows: int) -> Layout | None:
        """The layout, or None when the call does not hold every latent row of some half (e.g. an area)."""
        if call.area is not None:
            return None
        halves = []
        cond: tuple[int, ...] = ()
        for unconditional in (True, False):
            where = [-1] * rows
            for index, (row, flag) in enumerate(zip(call.rows, call.unconditional, strict=True)):
                if flag == unconditional and 0 <= row < rows and where[row] < 0:
                    where[row] = index
            if all(w < 0 for w in where):
                continue
            if any(w < 0 for w in where):
                return None
            halves.append(tuple(where))
            if not unconditional:
                cond = tuple(where)
        return Layout(tuple(halves), cond) if cond else None


@dataclass
class EditState:
    """Mutable run state. ``rows``: latent rows (source first); ``latent_hw``: latent height and width."""

    rows: int
    latent_hw: tuple[int, int]
    prompts: tuple[str, ...] = ()
    call: UnetCall | None = None
    layout: Layout | None = None
    sums: dict[str, torch.Tensor] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    factors: dict[str, int] = field(default_factory=dict)
    current: dict[int, list[torch.Tensor]] = field(default_factory=dict)

    def begin_call(self, call: UnetCall) -> None:
        self.call, self.layout = call, Layout.of(call, self.rows)
        self.current = {}

    @property
    def step(self) -> int:
        return self.call.step if self.call is not None else 0

    @property
    def total(self) -> int:
        return self.call.total_steps if self.call is not None else 1

    def layer_hw(self, tokens: int, factor: int) -> tuple[int, int]:
        """The feature map of a layer with ``tokens`` positions (``factor`` is the expected downscale)."""
        height, width = (-(-self.latent_hw[0] // factor), -(-self.latent_hw[1] // factor))
        if height * width == tokens:
            return height, width
        ratio = (self.latent_hw[0] * self.latent_hw[1] / tokens) ** 0.5
        height = max(round(self.latent_hw[0] / ratio), 1)
        return height, tokens // height

    def record(self, name: str, factor: int, maps: torch.Tensor) -> None:
        """Add head-averaged conditional maps ``[rows, N, K]`` of one layer to the running sum."""
        maps = maps.detach().float()
        self.factors[name] = factor
        if name in self.sums and self.sums[name].shape == maps.shape:
            self.sums[name] += maps
            self.counts[name] += 1
        else:
            self.sums[name], self.counts[name] = maps.clone(), 1
        self.current.setdefault(factor, []).append(maps)

    def average(self, factor: int | None = None) -> list[tuple[int, torch.Tensor]]:
        """``(factor, mean maps [rows, N, K])`` of recorded layers (only ``factor`` when given)."""
        return [
            (self.factors[name], total / self.counts[name])
            for name, total in self.sums.items()
            if factor is None or self.factors[name] == factor
        ]
