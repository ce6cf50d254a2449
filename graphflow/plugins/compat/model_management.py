"""Stand-in for the interrupt and device helpers of ``comfy.model_management``.

Interrupts are per run in graphflow: ``throw_exception_if_processing_interrupted()`` raises
:class:`~graphflow.context.Interrupted` (alias ``InterruptProcessingException``) when the run of the node
whose code is calling has been cancelled. Model loading, patching and VRAM management are ComfyUI
internals graphflow does not emulate; using them raises a
:class:`~graphflow.plugins.compat.missing.NotProvidedError`.
"""

from __future__ import annotations

from typing import Any

from graphflow.context import Interrupted
from graphflow.plugins.compat.missing import not_provided
from graphflow.plugins.current import current_installation, current_node

__all__ = [
    "InterruptProcessingException",
    "get_torch_device",
    "interrupt_current_processing",
    "processing_interrupted",
    "soft_empty_cache",
    "throw_exception_if_processing_interrupted",
    "unload_all_models",
]

InterruptProcessingException = Interrupted


def processing_interrupted() -> bool:
    ctx = current_node()
    return ctx is not None and ctx.cancel.cancelled


def throw_exception_if_processing_interrupted() -> None:
    ctx = current_node()
    if ctx is not None:
        ctx.check_cancelled()


def interrupt_current_processing(value: bool = True) -> None:
    """Cancel the run of the calling node (``False`` is ignored: a cancelled run stays cancelled)."""
    ctx = current_node()
    if ctx is not None and value:
        ctx.cancel.cancel("interrupted by a node")


def get_torch_device() -> Any:
    """The device graphflow runs models on (``torch.device``)."""
    import torch

    installation = current_installation()
    policy = None
    if installation is not None and installation.runtime is not None:
        try:
            policy = installation.runtime.device
        except ImportError:
            policy = None
    device = getattr(policy, "device", None)
    return torch.device(device) if device is not None else torch.device("cpu")


def soft_empty_cache(force: bool = False) -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def unload_all_models() -> None:
    installation = current_installation()
    runtime = installation.runtime if installation is not None else None
    manager = getattr(runtime, "__dict__", {}).get("models")  # only if the runtime already built one
    if manager is not None and hasattr(manager, "unload_all"):
        manager.unload_all()


def __getattr__(name: str) -> Any:
    raise not_provided("comfy.model_management", name)
