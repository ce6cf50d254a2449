"""Pausing automatic garbage collection around allocation-heavy bookkeeping."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause automatic garbage collection while the scheduler builds its own bookkeeping.

    Those phases allocate a few objects per node and free them by reference counting; a full
    collection triggered in the middle of them would scan every live object, making large graphs
    superlinear. Node code runs with collection enabled.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
