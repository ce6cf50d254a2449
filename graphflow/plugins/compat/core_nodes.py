"""Stand-in for ComfyUI's top-level ``nodes`` module: the constants packs import from it.

Only ``MAX_RESOLUTION`` and the (empty) mapping tables are provided; ComfyUI's core node classes are not.
graphflow's own implementations of core nodes are regular node types in the registry.
"""

from __future__ import annotations

from typing import Any

from graphflow.plugins.compat.missing import not_provided

MAX_RESOLUTION = 16384
NODE_CLASS_MAPPINGS: dict[str, type] = {}
NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {}


def __getattr__(name: str) -> Any:
    raise not_provided("nodes", name)
