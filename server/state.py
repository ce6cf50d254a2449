"""Everything one server instance holds, reachable from any handler as ``request.app[STATE]``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from graphflow.scheduler import Executor

from .config import ServerConfig
from .hub import Hub
from .jobs import PromptQueue
from .logbuffer import LogBuffer
from .store import JobStore

if TYPE_CHECKING:
    from graphflow.context import Runtime

    from .worker import Worker

log = logging.getLogger(__name__)

DEFAULT_USER = "default"


@dataclass
class ServerState:
    """The runtime, the queue (memory + SQLite), the socket hub, the workers and per-request helpers.

    ``validator`` checks prompts in the request path with its own memo; each worker has its own
    :class:`~graphflow.scheduler.Executor`, so result caches live as long as the worker.
    ``on_prompt`` hooks may rewrite a ``POST /prompt`` body before it is read; they are the handlers packs
    add through ``PromptServer.instance`` (:attr:`prompt_server`, the ComfyUI stand-in).
    """

    runtime: Runtime
    config: ServerConfig
    store: JobStore
    queue: PromptQueue
    hub: Hub
    validator: Executor
    logs: LogBuffer
    workers: list[Worker] = field(default_factory=list)
    counter: int = 0
    on_prompt: list[Callable[[dict[str, Any]], dict[str, Any]]] = field(default_factory=list)
    extension_scripts: list[str] = field(default_factory=list)
    prompt_server: Any = None

    @property
    def user_dir(self) -> Path:
        """The single user's folder (``user/default``), as ComfyUI without ``--multi-user``."""
        return self.runtime.paths.user / DEFAULT_USER

    def next_number(self, front: bool) -> int:
        number = self.counter
        self.counter += 1
        return -number if front else number

    def model_folders(self) -> Any | None:
        """The runtime's :class:`ModelFolders`, or None while that service is unavailable."""
        try:
            return self.runtime.model_folders
        except Exception as error:  # the model service is optional; routes answer with empty lists
            if not getattr(self, "_model_folders_warned", False):
                log.warning("model folders unavailable (%s); model lists are empty", error)
                self._model_folders_warned = True
            return None

    def object_info(self) -> dict[str, Any]:
        """``/object_info`` for every node type; a type whose description fails is logged and left out."""
        info: dict[str, Any] = {}
        for spec in self.runtime.registry:
            try:
                info[spec.class_type] = spec.object_info(self.runtime)
            except Exception:
                log.exception("node type %s could not describe itself; leaving it out", spec.class_type)
        return info


STATE = web.AppKey("graphflow_state", ServerState)
