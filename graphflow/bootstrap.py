"""Assemble a runtime: the registry (built-in nodes, then node packs), the folders, the services.

The CLI and the server call :func:`create_runtime`; tests may build smaller registries by hand.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from graphflow.context import Runtime
from graphflow.paths import Paths
from graphflow.registry import NodeRegistry, PackStatus

BASE_DIR_ENV = "GRAPHFLOW_BASE_DIR"


def default_base_dir() -> Path:
    """``$GRAPHFLOW_BASE_DIR`` if set, else the current directory."""
    return Path(os.environ.get(BASE_DIR_ENV) or os.getcwd())


def builtin_registry() -> NodeRegistry:
    """A registry holding graphflow's built-in node types only."""
    from graphflow.nodes import builtin_nodes

    registry = NodeRegistry()
    pack = registry.add_pack(PackStatus("graphflow", "graphflow.nodes", "builtin"))
    registry.register_all(builtin_nodes(), pack=pack)
    return registry


def create_runtime(
    base_dir: str | os.PathLike[str] | None = None,
    *,
    output_dir: str | os.PathLike[str] | None = None,
    custom_node_dirs: Iterable[str | os.PathLike[str]] = (),
    load_packs: bool = True,
    **runtime_options,
) -> Runtime:
    """Build the registry and folders for one installation.

    ``custom_node_dirs`` are searched for node packs in addition to ``<base>/custom_nodes``, the folders
    in ``$GRAPHFLOW_CUSTOM_NODES`` and installed ``graphflow.nodes`` entry points (``load_packs=False``
    skips all packs).
    """
    paths = Paths.at(
        base_dir or default_base_dir(), output_dir=Path(output_dir).resolve() if output_dir else None
    )
    registry = builtin_registry()
    if load_packs:
        try:
            from graphflow.plugins import load_packs as load_node_packs
        except ImportError:  # the pack loader is optional while it is being built
            load_node_packs = None
        if load_node_packs is not None:
            load_node_packs(registry, paths, extra_dirs=[Path(d) for d in custom_node_dirs])
    return Runtime(registry, paths, **runtime_options)
