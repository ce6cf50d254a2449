"""Installed node packs: the ``graphflow.nodes`` entry-point group.

A pip-installable pack declares, in its ``pyproject.toml``::

    [project.entry-points."graphflow.nodes"]
    my_pack = "my_pack"                 # a module, or
    my_pack = "my_pack.nodes:all_nodes" # a callable returning the node classes

The entry-point **name** is the pack's name (its nodes get the ``custom_nodes.<name>`` source badge unless
they set ``python_module``). The **value** is either

- a module: its ``GRAPHFLOW_NODES`` list if it has one, else the ``@graphflow.node`` classes it (or its
  sub-modules) defines, plus any ComfyUI-style ``NODE_CLASS_MAPPINGS``; or
- a callable taking no arguments and returning node classes (an iterable of ``@graphflow.node`` classes,
  or a ``{class_type: V1 class}`` mapping for classic nodes).

Entry points load in sorted ``(name, value)`` order, before any pack folder.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType

from graphflow.plugins.contents import (
    native_specs,
    register_classic,
    register_module,
    register_native,
    unique_pack_name,
)
from graphflow.registry import NodeRegistry, PackStatus

GROUP = "graphflow.nodes"
log = logging.getLogger("graphflow.plugins")


def discover() -> list[EntryPoint]:
    """The installed entry points of the group, each once, in sorted order."""
    unique: dict[tuple[str, str], EntryPoint] = {}
    for entry in entry_points(group=GROUP):
        unique.setdefault((entry.name, entry.value), entry)
    return [unique[key] for key in sorted(unique)]


def _source(entry: EntryPoint) -> str:
    dist = getattr(entry, "dist", None)
    if dist is not None:
        return f"{dist.metadata['Name']} {dist.version} ({entry.value})"
    return entry.value


def register_entry_point(registry: NodeRegistry, status: PackStatus, loaded: object) -> None:
    if isinstance(loaded, ModuleType):
        location = getattr(loaded, "__file__", None)
        register_module(registry, status, loaded, Path(location).parent if location else None)
        return
    if not callable(loaded):
        raise TypeError(f"{status.source}: expected a module or a callable returning node classes")
    provided = loaded()
    if isinstance(provided, Mapping):
        register_classic(registry, status, provided, None, status.name)
    else:
        register_native(registry, status, native_specs(provided, status.source))


def load_entry_point_pack(registry: NodeRegistry, entry: EntryPoint) -> PackStatus:
    status = registry.add_pack(
        PackStatus(unique_pack_name(registry, entry.name), _source(entry), "entry-point")
    )
    try:
        register_entry_point(registry, status, entry.load())
    except (Exception, SystemExit) as error:
        status.loaded = False
        status.error = f"{type(error).__name__}: {error}"
        status.traceback = traceback.format_exc()
        log.warning("Cannot load node pack %s (%s): %s", entry.name, entry.value, error)
    return status


def load_entry_point_packs(registry: NodeRegistry) -> list[PackStatus]:
    return [load_entry_point_pack(registry, entry) for entry in discover()]
