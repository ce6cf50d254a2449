"""Install attention processors on named layers for the duration of a ``with`` block.

The UNet is shared with the model cache, so it must never stay patched: the original processor objects are
put back in ``finally`` (exceptions, cancellation), and layers not named keep theirs untouched (SDPA). A layer
already carrying an edit processor is refused rather than silently overwritten.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from graphflow.attention.processors import EditProcessor


class AttentionBusy(RuntimeError):
    """Another attention edit is already installed on the same UNet layer."""


@contextmanager
def installed(unet: Any, processors: Mapping[str, Any]) -> Iterator[None]:
    """Set ``processors`` (module name → processor) on the UNet's ``Attention`` modules; restore after."""
    modules = dict(unet.named_modules())
    missing = [name for name in processors if name not in modules or not hasattr(modules[name], "processor")]
    if missing:
        raise KeyError(f"no attention layer named {missing[0]!r} in this UNet")
    saved = {name: modules[name].processor for name in processors}
    busy = [name for name, processor in saved.items() if isinstance(processor, EditProcessor)]
    if busy:
        raise AttentionBusy(
            f"the attention layer {busy[0]} already has an attention edit installed; run one attention-edit "
            "sampler at a time on a model"
        )
    done: list[str] = []
    try:
        for name, processor in processors.items():
            modules[name].set_processor(processor)
            done.append(name)
        yield
    finally:
        for name in done:
            modules[name].set_processor(saved[name])
