"""What a pack module provides, and registering it: native node classes, classic mappings, web files.

A module is a **native** pack when it lists ``GRAPHFLOW_NODES`` (node classes made with
:func:`graphflow.node`) or defines such classes (in itself or its sub-modules); a **classic** pack when it
has ComfyUI's ``NODE_CLASS_MAPPINGS`` (with optional ``NODE_DISPLAY_NAME_MAPPINGS`` and
``WEB_DIRECTORY``). A module may be both.
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

from graphflow.plugins.classic import compile_classic
from graphflow.registry import NodeRegistry, PackStatus
from graphflow.spec import NodeSpec

log = logging.getLogger("graphflow.plugins")
DEFAULT_PYTHON_MODULE = "custom_nodes.graphflow"  # what @node(...) uses when a pack does not say


class NotANodePack(Exception):
    """The module exports no node types in either style."""


def unique_pack_name(registry: NodeRegistry, name: str) -> str:
    """``name``, or ``name~2``, ``name~3``... when another pack (or the built-ins) already has it."""
    taken = {pack.name for pack in registry.packs}
    if name not in taken:
        return name
    n = 2
    while f"{name}~{n}" in taken:
        n += 1
    return f"{name}~{n}"


def defined_node_classes(module: ModuleType) -> list[type]:
    """Classes decorated with ``@node`` that ``module`` or one of its sub-modules defines, in order."""
    own = module.__name__
    found = []
    for value in list(vars(module).values()):
        if (
            isinstance(value, type)
            and isinstance(vars(value).get("spec"), NodeSpec)
            and (value.__module__ == own or value.__module__.startswith(own + "."))
        ):
            found.append(value)
    return found


def native_specs(nodes: Iterable[Any], source: str) -> list[NodeSpec]:
    specs = []
    for item in nodes:
        spec = item if isinstance(item, NodeSpec) else getattr(item, "spec", None)
        if not isinstance(spec, NodeSpec):
            raise TypeError(f"{source}: {item!r} is not a node class; decorate it with @graphflow.node(...)")
        specs.append(spec)
    return specs


def register_native(registry: NodeRegistry, status: PackStatus, specs: list[NodeSpec]) -> None:
    for spec in specs:
        if spec.python_module == DEFAULT_PYTHON_MODULE:
            spec = replace(spec, python_module=f"custom_nodes.{status.name.split('~')[0]}")
        registry.register(spec, pack=status)


def register_classic(
    registry: NodeRegistry,
    status: PackStatus,
    mappings: Mapping[str, Any],
    display_names: Mapping[str, Any] | None,
    badge: str,
) -> None:
    """Compile and register every class of a NODE_CLASS_MAPPINGS; unusable classes are recorded."""
    problems = []
    for class_type, cls in mappings.items():
        if isinstance(vars(cls).get("spec") if isinstance(cls, type) else None, NodeSpec):
            register_native(registry, status, [cls.spec])  # a native node listed in a classic mapping
            continue
        try:
            spec = compile_classic(
                str(class_type),
                cls,
                display_name=(display_names or {}).get(class_type),
                pack=status.name,
                python_module=f"custom_nodes.{badge}",
            )
        except Exception as error:
            problems.append(f"{class_type}: {error}")
            status.traceback = (status.traceback or "") + traceback.format_exc()
            continue
        registry.register(spec, pack=status)
    if problems:
        status.error = f"{len(problems)} node class(es) could not be used: " + "; ".join(problems)
        log.warning("node pack %s: %s", status.name, status.error)


def register_module(
    registry: NodeRegistry, status: PackStatus, module: ModuleType, pack_dir: Path | None
) -> None:
    """Register everything ``module`` provides into ``registry`` under ``status``."""
    listed = getattr(module, "GRAPHFLOW_NODES", None)
    mappings = getattr(module, "NODE_CLASS_MAPPINGS", None)
    native = native_specs(listed, module.__name__) if listed is not None else []
    if listed is None:
        native = native_specs(defined_node_classes(module), module.__name__)
    if mappings is None and listed is None and not native:
        if hasattr(module, "comfy_entrypoint"):
            raise NotANodePack(
                "this pack uses ComfyUI's V3 node API (comfy_entrypoint), which graphflow does not support"
            )
        raise NotANodePack(
            "not a node pack: it defines no NODE_CLASS_MAPPINGS, GRAPHFLOW_NODES or @graphflow.node classes"
        )
    if mappings is not None and not isinstance(mappings, Mapping):
        raise TypeError("NODE_CLASS_MAPPINGS must be a dict of {class_type: class}")
    badge = status.name.split("~")[0]
    register_native(registry, status, native)
    if mappings is not None:
        status.kind = "classic" if status.kind == "native" else status.kind
        register_classic(
            registry, status, mappings, getattr(module, "NODE_DISPLAY_NAME_MAPPINGS", None), badge
        )
    if pack_dir is not None:
        status.web_directory = web_directory(module, pack_dir)


def web_directory(module: ModuleType, pack_dir: Path) -> str | None:
    """The absolute folder of the pack's front-end files (``WEB_DIRECTORY``, or pyproject's
    ``[tool.comfy] web``), when it exists."""
    declared = getattr(module, "WEB_DIRECTORY", None)
    if declared is None:
        declared = _pyproject_web(pack_dir)
    if not declared:
        return None
    folder = os.path.realpath(os.path.join(pack_dir, str(declared)))
    return folder if os.path.isdir(folder) else None


def _pyproject_web(pack_dir: Path) -> str | None:
    pyproject = pack_dir / "pyproject.toml"
    if not pyproject.is_file():
        return None
    try:
        import tomllib
    except ImportError:  # Python 3.10: only WEB_DIRECTORY is read
        return None
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    web = data.get("tool", {}).get("comfy", {}).get("web")
    return web if isinstance(web, str) else None
