"""Stand-in for ``comfy.utils``: the progress bar packs use to report steps (and be interruptible).

``ProgressBar(total)`` belongs to the node whose code created it. ``update(n)`` / ``update_absolute(value)``
go to that node's ``ctx.progress``, so the editor shows the bar, previews arrive, and a cancelled run
stops the node at its next update (graphflow's :class:`~graphflow.context.Interrupted`). Everything else in
ComfyUI's ``comfy.utils`` (tensor helpers, model loading) is not provided; using it raises a
:class:`~graphflow.plugins.compat.missing.NotProvidedError` that says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphflow.plugins.compat.missing import not_provided
from graphflow.plugins.current import current_node

__all__ = ["PROGRESS_BAR_ENABLED", "ProgressBar", "set_progress_bar_enabled", "set_progress_bar_global_hook"]

PROGRESS_BAR_ENABLED = True
_global_hook: list[Callable[..., Any] | None] = [None]


def set_progress_bar_enabled(enabled: bool) -> None:
    global PROGRESS_BAR_ENABLED
    PROGRESS_BAR_ENABLED = enabled


def set_progress_bar_global_hook(function: Callable[..., Any] | None) -> None:
    """Accepted for compatibility; graphflow routes progress through the running node's context."""
    _global_hook[0] = function


def _preview_image(preview: Any) -> Any:
    """ComfyUI passes previews as ``(format, PIL image, max size)``; graphflow wants the image."""
    if isinstance(preview, tuple) and len(preview) >= 2:
        return preview[1]
    return preview


class ProgressBar:
    """Step progress of the node that created it.

    Args:
        total: number of steps. node_id: accepted for compatibility; progress always goes to the node
            whose code is running (or that created the bar, for updates from worker threads).
    """

    def __init__(self, total: int, node_id: str | None = None) -> None:
        self.total = total
        self.current = 0
        self.node_id = node_id
        self._ctx = current_node()

    def update_absolute(self, value: int, total: int | None = None, preview: Any = None) -> None:
        if total is not None:
            self.total = total
        if self.total is not None and value > self.total:
            value = self.total
        self.current = value
        ctx = current_node() or self._ctx
        if ctx is not None and PROGRESS_BAR_ENABLED:
            ctx.progress(int(self.current), int(self.total or 0), _preview_image(preview))
        elif ctx is not None:
            ctx.check_cancelled()

    def update(self, value: int) -> None:
        self.update_absolute(self.current + value)


def __getattr__(name: str) -> Any:
    raise not_provided("comfy.utils", name)
