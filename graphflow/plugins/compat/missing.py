"""The error for a ComfyUI name graphflow's compatibility layer does not provide."""

from __future__ import annotations


class NotProvidedError(ImportError):
    """A pack used a ComfyUI module or attribute that graphflow does not emulate.

    An ``ImportError`` so that ``from comfy.utils import x`` fails at pack import time with this message
    (and the pack is reported as failed to import, naming what it needed).
    """


TIERS_HINT = "see docs/node-packs.md, 'Compatibility tiers'"


def not_provided(module: str, name: str) -> Exception:
    """What a shim module's ``__getattr__`` raises for ``name`` (plain AttributeError for dunders)."""
    if name.startswith("__") and name.endswith("__"):
        return AttributeError(name)
    return NotProvidedError(
        f"{module}.{name} is not provided by graphflow's ComfyUI compatibility layer ({TIERS_HINT})"
    )
