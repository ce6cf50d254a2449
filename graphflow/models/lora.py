"""Turn a LoRA file's tensors into :class:`WeightPatch` es for a loaded UNet and text encoder.

Recognised key styles (the ones SD1.x/SD2.x/SDXL LoRAs ship in):

* kohya-ss: ``lora_unet_<module>.lora_down.weight`` / ``.lora_up.weight`` / ``.alpha`` and
  ``lora_te_`` (SD1/SD2), ``lora_te1_`` / ``lora_te2_`` (SDXL's CLIP-L / bigG). ``<module>`` is the
  module path with ``.`` written as ``_``; for SD1.x it follows diffusers' names
  (``down_blocks_0_attentions_0_...``), for SDXL the LDM names (``input_blocks_4_1_...``), which is what
  diffusers' own ``_convert_unet_lora_key`` expects too. Both are accepted for every family.
* PEFT / diffusers: ``unet.<module>.lora_A.weight`` / ``lora_B.weight`` and ``text_encoder.`` /
  ``text_encoder_2.``; LDM-dotted ``diffusion_model.<module>.lora_down.weight``.

Module paths are matched against the loaded model's own module names (diffusers names, and LDM names via
:mod:`~graphflow.models.ldm_names`), never guessed by string surgery, so ``_`` inside names (``to_q``,
``proj_in``) is never ambiguous. Scale = ``alpha / rank`` (1 without alpha).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from graphflow.models.handles import DiffusionModel, TextEncoder, WeightPatch
from graphflow.models.ldm_names import unet_ldm_names

_KOHYA = re.compile(r"^(lora_unet|lora_te1|lora_te2|lora_te)_(.+?)\.(lora_down|lora_up)\.weight$")
_PEFT = re.compile(
    r"^(unet|text_encoder_2|text_encoder|diffusion_model)\.(.+?)\.(lora_A|lora_B|lora_down|lora_up)\.weight$"
)
_TEXT_TARGET = {"lora_te": 0, "lora_te1": 0, "lora_te2": 1, "text_encoder": 0, "text_encoder_2": 1}


@dataclass(frozen=True)
class LoraPatches:
    """The patches for the MODEL and CLIP sides of one LoRA file, and the keys that matched nothing."""

    unet: WeightPatch
    clip: WeightPatch
    unmatched: tuple[str, ...] = ()


@dataclass
class _Pair:
    down: torch.Tensor | None = None
    up: torch.Tensor | None = None
    alpha: float | None = None


def _pairs(tensors: Mapping[str, torch.Tensor]) -> tuple[dict[tuple[str, str], _Pair], list[str]]:
    """Group down/up/alpha tensors by (target, module key); return the keys no pattern explains."""
    pairs: dict[tuple[str, str], _Pair] = {}
    stray: list[str] = []
    for key, value in tensors.items():
        match = _KOHYA.match(key) or _PEFT.match(key)
        if match:
            target, module, which = match.groups()
            pair = pairs.setdefault((target, module), _Pair())
            if which in ("lora_down", "lora_A"):
                pair.down = value
            else:
                pair.up = value
        elif not key.endswith(".alpha"):
            stray.append(key)
    for (target, module), pair in pairs.items():
        sep = "." if target in ("unet", "text_encoder", "text_encoder_2", "diffusion_model") else "_"
        alpha = tensors.get(f"{target}{sep}{module}.alpha")
        if alpha is not None:
            pair.alpha = float(alpha.float().reshape(-1)[0])
    return pairs, stray


def _unet_lookup(unet: object) -> dict[str, str]:
    """Every spelling of a UNet module (diffusers/LDM, dotted/underscored) -> diffusers module name."""
    params = [n for n, _ in unet.named_parameters()]  # type: ignore[attr-defined]
    ldm = unet_ldm_names(params, int(unet.config.layers_per_block))  # type: ignore[attr-defined]
    lookup: dict[str, str] = {}
    for name in params:
        if not name.endswith(".weight"):
            continue
        module = name[: -len(".weight")]
        ldm_module = ldm[name][: -len(".weight")]
        for spelling in (module, ldm_module):
            lookup[spelling] = module
            lookup[spelling.replace(".", "_")] = module
    return lookup


def _text_lookup(model: object) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for name, _ in model.named_parameters():  # type: ignore[attr-defined]
        if not name.endswith(".weight"):
            continue
        module = name[: -len(".weight")]
        rooted = module if module.startswith(("text_model.", "text_projection")) else "text_model." + module
        for spelling in (module, rooted):
            lookup[spelling] = module
            lookup[spelling.replace(".", "_")] = module
    return lookup


def _recipe(pair: _Pair, param: torch.Tensor) -> tuple[object, ...] | None:
    if pair.down is None or pair.up is None:
        return None
    rank = pair.down.shape[0]
    if pair.up.shape[0] != param.shape[0] or pair.up.flatten(1).shape[1] != rank:
        return None
    in_features = pair.down.shape[1]
    if param.ndim >= 2 and param.shape[1] != in_features:
        return None
    if param.ndim == 4:
        kernel = tuple(pair.down.shape[2:]) if pair.down.ndim == 4 else (1, 1)
        if kernel != tuple(param.shape[2:]):
            return None
    scale = (pair.alpha / rank) if pair.alpha is not None else 1.0
    return ("lowrank", pair.up, pair.down, scale)


def lora_patches(
    tensors: Mapping[str, torch.Tensor],
    model: DiffusionModel | None,
    clip: TextEncoder | None,
    source: str,
    strength_model: float = 1.0,
    strength_clip: float = 1.0,
) -> LoraPatches:
    """Match a LoRA state dict against ``model``'s UNet and ``clip``'s encoders.

    Returns patches to add with :meth:`DiffusionModel.with_patch` / :meth:`TextEncoder.with_patch`; text
    patch keys are ``"<part name>.<parameter>"``. ``unmatched`` lists LoRA modules that fit no parameter
    (wrong model family, or a layer type graphflow does not patch, such as LoKr or DoRA).
    """
    pairs, unmatched = _pairs(tensors)
    unet_params = dict(model.unet.named_parameters()) if model is not None else {}
    unet_lookup = _unet_lookup(model.unet) if model is not None else {}
    parts = clip.parts if clip is not None else ()
    text_params = [dict(p.model.named_parameters()) for p in parts]
    text_lookups = [_text_lookup(p.model) for p in parts]

    unet_deltas: dict[str, tuple[object, ...]] = {}
    text_deltas: dict[str, tuple[object, ...]] = {}
    for (target, module), pair in pairs.items():
        recipe = None
        if target in ("lora_unet", "unet", "diffusion_model"):
            found = unet_lookup.get(module)
            if found is not None:
                recipe = _recipe(pair, unet_params[found + ".weight"])
                if recipe is not None:
                    unet_deltas[found + ".weight"] = recipe
        else:
            index = _TEXT_TARGET[target]
            if index < len(parts):
                found = text_lookups[index].get(module)
                if found is not None:
                    recipe = _recipe(pair, text_params[index][found + ".weight"])
                    if recipe is not None:
                        text_deltas[f"{parts[index].name}.{found}.weight"] = recipe
        if recipe is None:
            unmatched.append(f"{target}.{module}")
    return LoraPatches(
        unet=WeightPatch(source, unet_deltas, strength_model),
        clip=WeightPatch(source, text_deltas, strength_clip),
        unmatched=tuple(sorted(unmatched)),
    )
