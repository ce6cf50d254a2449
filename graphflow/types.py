"""Socket and widget type names, and the one rule that decides whether a link may connect two of them.

Type names are the strings ComfyUI uses on the wire (``"IMAGE"``, ``"INT"``, ...), so object_info and saved
workflows stay compatible. ``"*"`` matches anything; ``"A,B"`` is a union that matches any type sharing a
member with it.
"""

from __future__ import annotations

from functools import lru_cache

# Widget (constant) types: values typed into the editor and coerced at validation.
INT = "INT"
FLOAT = "FLOAT"
STRING = "STRING"
BOOLEAN = "BOOLEAN"
COMBO = "COMBO"
WIDGET_TYPES = frozenset({INT, FLOAT, STRING, BOOLEAN, COMBO})

# Socket types: values produced by other nodes.
MODEL = "MODEL"
CLIP = "CLIP"
VAE = "VAE"
CONDITIONING = "CONDITIONING"
LATENT = "LATENT"
IMAGE = "IMAGE"
MASK = "MASK"
ATTENTION_EDIT = "ATTENTION_EDIT"
ATTENTION_MAPS = "ATTENTION_MAPS"
ANY = "*"

# Hidden inputs a node may ask the executor for (ComfyUI's names).
PROMPT = "PROMPT"
EXTRA_PNGINFO = "EXTRA_PNGINFO"
UNIQUE_ID = "UNIQUE_ID"
DYNPROMPT = "DYNPROMPT"


@lru_cache(maxsize=4096)
def _members(type_name: str) -> frozenset[str]:
    return frozenset(part.strip() for part in type_name.split(",") if part.strip())


def is_compatible(source: str, target: str) -> bool:
    """Can an output of type ``source`` feed an input of type ``target``?

    True when the names are equal, either side is ``"*"``, or both are comma-separated unions that share
    a member (``"IMAGE,MASK"`` feeds ``"MASK"``).
    """
    if source in (target, ANY) or target == ANY:
        return True
    if not isinstance(source, str) or not isinstance(target, str):
        return False
    return not _members(source).isdisjoint(_members(target))
