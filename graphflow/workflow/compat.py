"""The link type rule shared with server-side validation (comfy-wire.md §3.1.3, rule 6).

Kept tiny so it can be swapped for ``graphflow.types.is_compatible`` once that exists.
"""

from __future__ import annotations


def types_compatible(a: str, b: str) -> bool:
    """True when socket types ``a`` and ``b`` may be linked: equal, either is ``*``, or their comma unions meet."""
    return a == b or "*" in (a, b) or bool(set(a.split(",")) & set(b.split(",")))
