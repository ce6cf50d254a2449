"""A scoped guard that keeps Hugging Face libraries off the network while graphflow loads a model.

Applied only around loader calls (never at import): it sets the hub's offline switches and restores them
afterwards. Loaders also pass ``local_files_only=True`` themselves; this catches code paths that forget.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "DIFFUSERS_OFFLINE")
_lock = threading.RLock()
_depth = 0
_saved_env: dict[str, str | None] = {}
_saved_constant: bool | None = None


@contextmanager
def hub_offline() -> Iterator[None]:
    """Within the block, huggingface_hub refuses HTTP requests (re-entrant, thread-safe)."""
    global _depth, _saved_constant
    with _lock:
        if _depth == 0:
            import huggingface_hub.constants as hub_constants

            _saved_env.clear()
            for name in _ENV:
                _saved_env[name] = os.environ.get(name)
                os.environ[name] = "1"
            _saved_constant = hub_constants.HF_HUB_OFFLINE
            hub_constants.HF_HUB_OFFLINE = True
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                import huggingface_hub.constants as hub_constants

                for name, value in _saved_env.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value
                hub_constants.HF_HUB_OFFLINE = bool(_saved_constant)
