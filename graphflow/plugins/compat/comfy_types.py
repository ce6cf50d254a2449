"""Stand-in for ``comfy.comfy_types``: the type names and typing helpers packs annotate V1 nodes with.

``IO`` members are strings (``IO.INT == "INT"``), so they can be used directly in ``INPUT_TYPES`` and
``RETURN_TYPES``. ``ComfyNodeABC`` and ``InputTypeDict`` exist for annotations only.
"""

from __future__ import annotations

from abc import ABC
from enum import Enum
from typing import Any, ClassVar, TypedDict

__all__ = ["IO", "ComfyNodeABC", "InputTypeDict", "InputTypeOptions"]


class IO(str, Enum):
    """Socket and widget type names as they appear on the wire."""

    ANY = "*"
    NUMBER = "FLOAT,INT"
    PRIMITIVE = "STRING,FLOAT,INT,BOOLEAN"
    STRING = "STRING"
    INT = "INT"
    FLOAT = "FLOAT"
    BOOLEAN = "BOOLEAN"
    COMBO = "COMBO"
    IMAGE = "IMAGE"
    MASK = "MASK"
    LATENT = "LATENT"
    CONDITIONING = "CONDITIONING"
    MODEL = "MODEL"
    CLIP = "CLIP"
    VAE = "VAE"
    CONTROL_NET = "CONTROL_NET"
    CLIP_VISION = "CLIP_VISION"
    CLIP_VISION_OUTPUT = "CLIP_VISION_OUTPUT"
    STYLE_MODEL = "STYLE_MODEL"
    GLIGEN = "GLIGEN"
    UPSCALE_MODEL = "UPSCALE_MODEL"
    SAMPLER = "SAMPLER"
    SIGMAS = "SIGMAS"
    NOISE = "NOISE"
    GUIDER = "GUIDER"
    AUDIO = "AUDIO"
    VIDEO = "VIDEO"
    HOOKS = "HOOKS"
    MODEL_PATCH = "MODEL_PATCH"

    def __str__(self) -> str:
        return self.value


class InputTypeOptions(TypedDict, total=False):
    """Options of one input spec (see custom-nodes.md §7.2 for what each key does)."""

    default: Any
    min: float
    max: float
    step: float
    round: float | bool
    display: str
    control_after_generate: bool
    multiline: bool
    placeholder: str
    dynamicPrompts: bool
    label_on: str
    label_off: str
    tooltip: str
    lazy: bool
    rawLink: bool
    forceInput: bool
    defaultInput: bool
    image_upload: bool
    image_folder: str


class InputTypeDict(TypedDict, total=False):
    """The dict ``INPUT_TYPES`` returns."""

    required: dict[str, tuple[Any, ...]]
    optional: dict[str, tuple[Any, ...]]
    hidden: dict[str, str]


class ComfyNodeABC(ABC):
    """Base class some packs use for V1 nodes; graphflow reads the same class attributes either way."""

    DESCRIPTION: ClassVar[str] = ""
    CATEGORY: ClassVar[str] = "sd"
    RETURN_TYPES: ClassVar[tuple[str, ...]] = ()
    FUNCTION: ClassVar[str]
