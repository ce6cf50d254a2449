"""The runtime a graph runs in, and the context a node sees while it runs."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from graphflow.paths import Paths

if TYPE_CHECKING:
    from graphflow.registry import NodeRegistry


class Interrupted(Exception):
    """Raised inside a node when its run was cancelled; the scheduler reports it as interrupted."""


class CancelToken:
    """Cooperative cancellation for one run: set from any thread, checked between nodes and at progress."""

    __slots__ = ("_event", "reason")

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def cancel(self, reason: str = "cancelled") -> None:
        self.reason = reason
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Interrupted(self.reason or "cancelled")


class Runtime:
    """Everything a run needs that outlives one prompt: node types, folders, models, device.

    Heavy services are built on first use, so creating a Runtime is cheap and imports no torch.
    """

    def __init__(
        self,
        registry: NodeRegistry,
        paths: Paths,
        *,
        device: str | None = None,
        dtype: str = "auto",
        model_budget_bytes: int | None = None,
        extra_model_paths: tuple[str, ...] = (),
        preview_method: str = "auto",
        write_metadata: bool = True,
    ) -> None:
        self.registry = registry
        self.paths = paths
        self.device_request = device
        self.dtype_request = dtype
        self.model_budget_bytes = model_budget_bytes
        self.extra_model_paths = extra_model_paths
        self.preview_method = preview_method
        self.write_metadata = write_metadata

    @cached_property
    def device(self) -> Any:
        """The device policy (device + dtype), chosen once for this runtime."""
        from graphflow.models.device import choose_device

        return choose_device(self.device_request, self.dtype_request)

    @cached_property
    def model_folders(self) -> Any:
        from graphflow.models.folders import ModelFolders

        return ModelFolders(self.paths, extra_configs=self.extra_model_paths)

    @cached_property
    def models(self) -> Any:
        from graphflow.models.manager import ModelManager

        return ModelManager(self.device, budget_bytes=self.model_budget_bytes)


ProgressSink = Callable[[str, int, int, Any], None]


class NodeContext:
    """What a node's ``run`` receives: who it is, where files go, progress and cancellation."""

    __slots__ = (
        "_progress",
        "cancel",
        "display_node_id",
        "extra_data",
        "graph_nodes",
        "node_id",
        "prompt",
        "prompt_id",
        "runtime",
    )

    def __init__(
        self,
        runtime: Runtime,
        node_id: str,
        display_node_id: str,
        prompt_id: str,
        prompt: dict[str, Any],
        extra_data: dict[str, Any],
        cancel: CancelToken,
        progress: ProgressSink,
        graph_nodes: Mapping[str, Any] | None = None,
    ) -> None:
        self.runtime = runtime
        self.node_id = node_id
        self.display_node_id = display_node_id
        self.prompt_id = prompt_id
        self.prompt = prompt
        self.extra_data = extra_data
        self.cancel = cancel
        self._progress = progress
        self.graph_nodes = graph_nodes  # the live graph (node id -> GraphNode), expanded nodes included

    @property
    def paths(self) -> Paths:
        return self.runtime.paths

    @property
    def unique_id(self) -> str:
        return self.node_id

    @property
    def extra_pnginfo(self) -> dict[str, Any] | None:
        return self.extra_data.get("extra_pnginfo")

    def progress(self, value: int, total: int, preview: Any = None) -> None:
        """Report ``value`` of ``total`` steps (with an optional preview image); raises if cancelled."""
        self.cancel.raise_if_cancelled()
        self._progress(self.node_id, value, total, preview)

    def check_cancelled(self) -> None:
        self.cancel.raise_if_cancelled()
