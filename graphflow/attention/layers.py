"""Attention layers identified by name, never by call order (spec §4.2).

A diffusers processor name such as ``up_blocks.1.attentions.2.transformer_blocks.0.attn2.processor`` parses
into place (down/mid/up), block, attention and transformer indices and kind (``attn1`` self, ``attn2``
cross). Sorting by (place down < mid < up, block, attention, transformer) gives the execution order, and the
position of each transformer block in that order is its ``block`` number: 0–15 on SD1.x, 0–69 on SDXL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

PLACES = {"down": 0, "mid": 1, "up": 2}
_NAME = re.compile(
    r"^(?P<place>down_blocks|mid_block|up_blocks)(?:\.(?P<block>\d+))?\.attentions\.(?P<attention>\d+)"
    r"\.transformer_blocks\.(?P<transformer>\d+)\.(?P<kind>attn1|attn2)(?:\.processor)?$"
)
# MasaCtrl's paper default: start at block 10 of SD1.x's 16 (and 44 of SDXL's 70 is the same fraction).
MASACTRL_LAYER_FRACTION = 10 / 16


@dataclass(frozen=True, order=True)
class Layer:
    """One attention layer. ``module`` is the ``Attention`` module's path; ``block`` the execution-order
    transformer-block index; ``cross`` True for ``attn2``; ``factor`` how much smaller than the latent its
    feature map is on each side (1, 2, 4, 8 on SD1.x; the last down block does not downsample)."""

    order: tuple[int, int, int, int, int]
    module: str
    place: str
    block: int
    cross: bool
    factor: int = 1


def parse(name: str) -> tuple[str, int, int, int, str] | None:
    """``(place, block, attention, transformer, kind)`` of a processor or module name, or None."""
    match = _NAME.match(name)
    if match is None:
        return None
    place = match["place"].split("_")[0]
    block = int(match["block"]) if match["block"] is not None else 0
    return place, block, int(match["attention"]), int(match["transformer"]), match["kind"]


def _factor(place: str, block: int, levels: int) -> int:
    if place == "down":
        return 2**block
    if place == "mid":
        return 2 ** (levels - 1)
    return 2 ** (levels - 1 - block)


def layers_of(names: Iterable[str], levels: int = 4) -> list[Layer]:
    """The attention layers among ``names`` (processor or module names), in execution order, for a UNet
    with ``levels`` down blocks."""
    parsed = []
    for name in names:
        fields = parse(name)
        if fields is None:
            continue
        place, block, attention, transformer, kind = fields
        module = name.removesuffix(".processor")
        parsed.append(((PLACES[place], block, attention, transformer, kind == "attn2"), module, place))
    parsed.sort()
    blocks: dict[tuple[int, int, int, int], int] = {}
    layers = []
    for order, module, place in parsed:
        number = blocks.setdefault(order[:4], len(blocks))
        factor = _factor(place, order[1], levels)
        layers.append(Layer(order, module, place, number, order[4], factor))  # type: ignore[arg-type]
    return layers


def unet_layers(unet: Any) -> list[Layer]:
    """The attention layers of a diffusers UNet, in execution order."""
    levels = len(getattr(unet, "down_blocks", ())) or 4
    return layers_of((name for name, _ in unet.named_modules()), levels)


def block_count(layers: Iterable[Layer]) -> int:
    return len({layer.block for layer in layers})


def nearest_factor(layers: Iterable[Layer], wanted: int) -> int | None:
    """The feature-map factor closest to ``wanted`` among the cross-attention ``layers`` (ties: the finer)."""
    factors = sorted({layer.factor for layer in layers if layer.cross})
    if not factors:
        return None
    return min(factors, key=lambda f: (abs(f - wanted), f))


def masactrl_start_layer(blocks: int) -> int:
    """The paper's start layer mapped onto a model with ``blocks`` transformer blocks (10 of 16, 44 of 70)."""
    return round(MASACTRL_LAYER_FRACTION * blocks)
