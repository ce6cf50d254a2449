"""Who pack code is running for right now: the node being run, and the installation it belongs to.

ComfyUI's module-level helpers (``comfy.utils.ProgressBar``, ``folder_paths``, GraphBuilder's id prefix)
find "the current node" through process globals. graphflow keeps that state in context variables instead,
set by the classic runner around every call into pack code, so overlapping async nodes each see their own
node and two runtimes in one process never mix their folders.

Code that runs outside any node (an aiohttp route a pack registered, a background thread) falls back to
the installation that was active last.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graphflow.context import NodeContext, Runtime
    from graphflow.paths import Paths


@dataclass
class Installation:
    """The folders (and, once it exists, the runtime) pack code works against."""

    paths: Paths
    runtime: Runtime | None = None

    @property
    def model_folders(self) -> Any:
        """The runtime's model folders, or ``None`` when graphflow's model layer is not available."""
        try:
            if self.runtime is not None:
                return self.runtime.model_folders
            from graphflow.models.folders import ModelFolders

            return ModelFolders(self.paths)
        except (ImportError, AttributeError):
            return None


@dataclass
class IdPrefix:
    """GraphBuilder's default id prefix for the node call in progress: ``"<root>.<call>.<graph>."``."""

    root: str = ""
    call_index: int = 0
    next_graph: int = 0

    def allocate(self) -> str:
        prefix = f"{self.root}.{self.call_index}.{self.next_graph}."
        self.next_graph += 1
        return prefix


_node: ContextVar[NodeContext | None] = ContextVar("graphflow_pack_node", default=None)
_installation: ContextVar[Installation | None] = ContextVar("graphflow_pack_installation", default=None)
_prefix: ContextVar[IdPrefix | None] = ContextVar("graphflow_pack_id_prefix", default=None)
_last: list[Installation] = []  # the most recently active installation (fallback outside any node)


def current_node() -> NodeContext | None:
    """The context of the node whose code is running in this thread/task, if any."""
    return _node.get()


def current_installation() -> Installation | None:
    found = _installation.get()
    if found is not None:
        return found
    return _last[0] if _last else None


def id_prefix() -> IdPrefix:
    """The GraphBuilder prefix state of the running call (a fresh root-less one outside node calls)."""
    state = _prefix.get()
    if state is None:
        state = IdPrefix()
        _prefix.set(state)
    return state


def installation_for(runtime: Runtime) -> Installation:
    for known in _last:
        if known.runtime is runtime:
            return known
    return Installation(runtime.paths, runtime)


@contextmanager
def active(installation: Installation) -> Iterator[Installation]:
    """Run pack code (module import, INPUT_TYPES, validation hooks) against ``installation``."""
    _last[:] = [installation]
    token = _installation.set(installation)
    try:
        yield installation
    finally:
        _installation.reset(token)


@contextmanager
def node_call(ctx: NodeContext, call_index: int) -> Iterator[None]:
    """Run one call of a node: sets the current node, installation and GraphBuilder prefix."""
    installation = installation_for(ctx.runtime)
    _last[:] = [installation]
    tokens = (
        _node.set(ctx),
        _installation.set(installation),
        _prefix.set(IdPrefix(ctx.node_id, call_index)),
    )
    try:
        yield
    finally:
        _prefix.reset(tokens[2])
        _installation.reset(tokens[1])
        _node.reset(tokens[0])
