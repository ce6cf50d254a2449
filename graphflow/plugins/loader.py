"""Find and load node packs: installed ``graphflow.nodes`` entry points, then pack folders.

Folders, in this order (each scanned in sorted name order, so loading is deterministic):

1. ``<base>/custom_nodes/``;
2. the folders in ``$GRAPHFLOW_CUSTOM_NODES`` (separated by ``os.pathsep``);
3. ``extra_dirs`` (the CLI's repeatable ``--custom-nodes DIR``).

In a folder, a pack is a single ``*.py`` file or a directory with an ``__init__.py``; ``__pycache__``,
hidden names and names ending in ``.disabled`` are skipped. Each pack module is imported under a unique
``sys.modules`` name derived from its path, with the ComfyUI stand-in modules importable.

Isolation: a pack that raises while importing is recorded (error and traceback in its
:class:`~graphflow.registry.PackStatus`) and registers nothing; the others load normally. Packs cannot
replace built-in node types; when two packs define one type, the first loaded keeps it and the clash is
recorded on both.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import sys
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType

from graphflow.paths import Paths
from graphflow.plugins.compat import compat_modules
from graphflow.plugins.contents import register_module, unique_pack_name
from graphflow.plugins.current import Installation, active
from graphflow.plugins.entry_points import load_entry_point_packs
from graphflow.registry import NodeRegistry, PackStatus

log = logging.getLogger("graphflow.plugins")
CUSTOM_NODES_ENV = "GRAPHFLOW_CUSTOM_NODES"


def pack_folders(paths: Paths, extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
    """The folders searched for packs, in order, each once (existing ones only)."""
    candidates = [paths.custom_nodes]
    candidates += [Path(p) for p in os.environ.get(CUSTOM_NODES_ENV, "").split(os.pathsep) if p]
    candidates += [Path(p) for p in extra_dirs]
    seen: set[str] = set()
    folders = []
    for folder in candidates:
        real = os.path.realpath(folder)
        if real in seen:
            continue
        seen.add(real)
        if os.path.isdir(real):
            folders.append(Path(real))
        elif folder != paths.custom_nodes:
            log.warning("custom node folder %s does not exist; skipped", folder)
    return folders


def pack_candidates(folder: Path) -> Iterator[Path]:
    """The packs in one folder, sorted by name."""
    for name in sorted(os.listdir(folder)):
        if name == "__pycache__" or name.startswith(".") or name.endswith(".disabled"):
            continue
        path = folder / name
        is_module = path.is_file() and name.endswith(".py")
        if is_module or (path.is_dir() and (path / "__init__.py").is_file()):
            yield path


def module_name_for(path: Path) -> str:
    """A ``sys.modules`` name unique to the pack's path (``graphflow_pack_<name>_<path hash>``)."""
    stem = re.sub(r"\W", "_", path.stem if path.is_file() else path.name)
    digest = hashlib.sha1(os.path.realpath(path).encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"graphflow_pack_{stem}_{digest}"


def _forget(module_name: str) -> None:
    for name in [n for n in sys.modules if n == module_name or n.startswith(module_name + ".")]:
        del sys.modules[name]


def import_pack(path: Path) -> ModuleType:
    """Import a pack file or package (once per process; a failed import leaves nothing behind)."""
    module_name = module_name_for(path)
    loaded = sys.modules.get(module_name)
    if loaded is not None:
        return loaded
    if path.is_dir():
        spec = importlib.util.spec_from_file_location(
            module_name, path / "__init__.py", submodule_search_locations=[str(path)]
        )
    else:
        spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        _forget(module_name)
        raise
    return module


def load_folder_pack(registry: NodeRegistry, path: Path) -> PackStatus:
    """Import one pack from a folder and register its nodes; failures are recorded, never raised."""
    name = unique_pack_name(registry, path.stem if path.is_file() else path.name)
    status = registry.add_pack(PackStatus(name, str(path), "native"))
    try:
        module = import_pack(path)
        register_module(registry, status, module, path if path.is_dir() else path.parent)
    except (Exception, SystemExit) as error:
        status.loaded = False
        status.error = f"{type(error).__name__}: {error}"
        status.traceback = traceback.format_exc()
        log.warning("Cannot import %s module for custom nodes: %s", path, error)
    return status


def load_packs(
    registry: NodeRegistry,
    paths: Paths,
    extra_dirs: Iterable[str | os.PathLike[str]] = (),
    *,
    entry_points: bool = True,
) -> list[PackStatus]:
    """Load every pack into ``registry``: entry points first, then the folders (see the module doc).

    Returns the status of each pack, in loading order (also kept in ``registry.packs``).
    """
    statuses: list[PackStatus] = []
    with compat_modules(), active(Installation(paths)):
        if entry_points:
            statuses += load_entry_point_packs(registry)
        for folder in pack_folders(paths, extra_dirs):
            for path in pack_candidates(folder):
                statuses.append(load_folder_pack(registry, path))
    return statuses
