"""Clean-room stand-ins for the ComfyUI modules classic node packs import, and when packs can see them.

The stand-ins are ordinary graphflow modules. :func:`compat_modules` makes them importable under
ComfyUI's names (``comfy.utils``, ``folder_paths``, ...) only while classic-pack code runs: while a pack is
imported and around every call into a classic node (INPUT_TYPES, IS_CHANGED, VALIDATE_INPUTS,
check_lazy_status, FUNCTION). A name that is importable from elsewhere (a real ComfyUI on ``sys.path``)
is left alone. Modules a pack imported keep working after the scope ends; only new ``import`` statements
outside a node call (in a pack's route handler, say) no longer find them.

Compatibility tiers (what classic packs can rely on):

1. **Full executor semantics.** Every V1 class attribute (custom-nodes.md §2), list mapping, lazy inputs,
   rawLink, node expansion, ExecutionBlocker, IS_CHANGED / VALIDATE_INPUTS / NOT_IDEMPOTENT, hidden inputs
   (PROMPT, EXTRA_PNGINFO, UNIQUE_ID, DYNPROMPT), WEB_DIRECTORY; and the modules
   ``comfy_execution.graph_utils`` (GraphBuilder, is_link, add_graph_prefix), ``comfy_execution.graph``
   (ExecutionBlocker, the DYNPROMPT view), ``comfy.utils.ProgressBar``, ``comfy.comfy_types``
   (IO, ComfyNodeABC, InputTypeDict).
2. **Provided, with limits.** ``folder_paths`` (directories, model file lists and paths, registered
   kinds, annotated names, get_save_image_path; backed by the running installation);
   ``comfy.model_management`` (interrupt checks per run, get_torch_device, soft_empty_cache only);
   ``server.PromptServer.instance`` (routes collected for graphflow's server, send_sync through its
   message sink, send_progress_text); ``nodes.MAX_RESOLUTION``.
3. **Not provided.** ComfyUI's model internals and core classes: ``comfy.sd``, ``comfy.model_patcher``,
   ``comfy.samplers``, ``comfy.sample``, ``comfy.model_base``, ``comfy.clip_vision``, ``comfy.utils``
   tensor helpers, ``nodes.<CoreClass>``, ``comfy_extras.*``, ``latent_preview``, the V3 ``comfy_api``
   schema. Importing them fails with a :class:`~graphflow.plugins.compat.missing.NotProvidedError` that
   says so, and the pack is reported as failed to import.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import sys
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from graphflow.plugins.compat.missing import TIERS_HINT, NotProvidedError

# ComfyUI module name -> graphflow module providing it ("" = a package made on the fly).
SHIMS: dict[str, str] = {
    "comfy": "",
    "comfy.utils": "graphflow.plugins.compat.comfy_utils",
    "comfy.model_management": "graphflow.plugins.compat.model_management",
    "comfy.comfy_types": "graphflow.plugins.compat.comfy_types",
    "comfy.comfy_types.node_typing": "graphflow.plugins.compat.comfy_types",
    "comfy_execution": "",
    "comfy_execution.graph_utils": "graphflow.plugins.compat.graph_utils",
    "comfy_execution.graph": "graphflow.plugins.compat.graph",
    "folder_paths": "graphflow.plugins.compat.folder_paths",
    "server": "graphflow.plugins.compat.prompt_server",
    "nodes": "graphflow.plugins.compat.core_nodes",
}
# Top-level ComfyUI names whose other submodules are reported as not provided.
COMFY_ROOTS = ("comfy", "comfy_execution", "comfy_extras", "comfy_api", "comfy_api_nodes", "latent_preview")

_lock = threading.RLock()
_depth = [0]
_installed: dict[str, types.ModuleType] = {}
_packages: dict[str, types.ModuleType] = {}


def _own_source_dirs() -> tuple[str, ...]:
    """graphflow's own package folders (found without importing them: the server package is heavy)."""
    found = []
    for name in ("graphflow", "graphflow.nodes", "graphflow.server"):
        spec = importlib.util.find_spec(name)
        found += [os.path.realpath(p) for p in (spec.submodule_search_locations or ())] if spec else []
    return tuple(found)


@cache
def provided_elsewhere(root: str) -> bool:
    """Whether a real module named ``root`` is importable (graphflow's own ``nodes/`` and ``server/``
    folders, visible as top-level names from a source checkout, do not count)."""
    try:
        spec = importlib.util.find_spec(root)
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    location = spec.origin or next(iter(spec.submodule_search_locations or ()), "")
    if not location or location in ("built-in", "frozen"):
        return True
    real = os.path.realpath(location)
    return not any(real == own or real.startswith(own + os.sep) for own in _own_source_dirs())


def _module(name: str) -> types.ModuleType:
    target = SHIMS[name]
    if target:
        return importlib.import_module(target)
    package = _packages.get(name)
    if package is None:
        package = types.ModuleType(name, f"graphflow's stand-in for ComfyUI's {name} package")
        package.__path__ = []  # a package, so `import name.sub` looks for submodules
        _packages[name] = package
    return package


class _NotProvidedFinder(importlib.abc.MetaPathFinder):
    """Turns imports of ComfyUI modules graphflow does not emulate into a clear error."""

    def find_spec(self, fullname, path=None, target=None):
        root = fullname.partition(".")[0]
        if root in COMFY_ROOTS and not provided_elsewhere(root) and fullname not in SHIMS:
            raise NotProvidedError(
                f"{fullname} is a ComfyUI module graphflow does not emulate ({TIERS_HINT})", name=fullname
            )
        return None


_finder = _NotProvidedFinder()


@cache
def _shim_modules() -> dict[str, types.ModuleType]:
    """The stand-ins to install (built once): ComfyUI name -> module, parents linked to children."""
    modules = {name: _module(name) for name in SHIMS if not provided_elsewhere(name.partition(".")[0])}
    for name, module in modules.items():
        parent, _, child = name.rpartition(".")
        if parent in modules:
            setattr(modules[parent], child, module)
    return modules


def _install() -> None:
    for name, module in _shim_modules().items():
        if name not in sys.modules:
            sys.modules[name] = module
            _installed[name] = module
    sys.meta_path.insert(0, _finder)


def _uninstall() -> None:
    for name, module in _installed.items():
        if sys.modules.get(name) is module:
            del sys.modules[name]
    _installed.clear()
    while _finder in sys.meta_path:
        sys.meta_path.remove(_finder)


@contextmanager
def compat_modules() -> Iterator[None]:
    """Make the stand-ins importable under ComfyUI's names for the duration (re-entrant, thread-safe)."""
    with _lock:
        if _depth[0] == 0:
            _install()
        _depth[0] += 1
    try:
        yield
    finally:
        with _lock:
            _depth[0] -= 1
            if _depth[0] == 0:
                _uninstall()
