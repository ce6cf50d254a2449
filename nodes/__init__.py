"""Built-in node library (installed as ``graphflow.nodes``).

:func:`builtin_nodes` imports the node modules and returns their node classes; importing this package
alone registers nothing anywhere.
"""

from __future__ import annotations

import importlib

MODULES = (
    "loaders",
    "primitives",
    "image_basic",
    "preview_any",
    "conditioning",
    "sampling",
    "latent",
    "vae",
    "image_load",
    "image_save",
    "image_scale",
    "attention_edits",
    "attention_sampler",
    "attention_maps",
)


def builtin_nodes() -> list[type]:
    """Every node class defined in the built-in modules, in module order."""
    found: list[type] = []
    for name in MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == module.__name__ and hasattr(value, "spec"):
                found.append(value)
    return found
