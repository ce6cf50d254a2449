"""The budgeted LRU store of node results, keyed by the content-addressed keys of ``graphflow.keys``."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

_SCALAR_TYPES = (str, int, bool, type(None))


_SKIP, _TENSOR, _ARRAY, _OWN, _CONTAINER = range(5)
_size_kind: dict[type, int] = {}


def _kind_of(kind: type) -> int:
    """How to size values of a type, decided once per type (this runs for every node result)."""
    if issubclass(kind, (str, bytes, int, float, bool, type(None))):
        found = _SKIP
    elif hasattr(kind, "graphflow_nbytes"):
        found = _OWN
    elif hasattr(kind, "element_size") and hasattr(kind, "nelement"):
        found = _TENSOR
    elif hasattr(kind, "nbytes") and hasattr(kind, "dtype"):
        found = _ARRAY
    elif issubclass(kind, (dict, list, tuple)):
        found = _CONTAINER
    else:
        found = _SKIP
    _size_kind[kind] = found
    return found


def value_nbytes(value: Any) -> int:
    """Bytes held by the tensors and arrays inside a value (models report their own size, or 0)."""
    total = 0
    stack = [value]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        kind = _size_kind.get(type(item))
        if kind is None:
            kind = _kind_of(type(item))
        if kind == _SKIP or id(item) in seen:
            continue
        seen.add(id(item))
        if kind == _TENSOR:
            total += item.element_size() * item.nelement()
        elif kind == _ARRAY:
            total += int(item.nbytes)
        elif kind == _OWN:
            total += int(item.graphflow_nbytes)
        elif type(item) is dict:
            stack.extend(item.values())
        else:
            stack.extend(item)
    return total


@dataclass(slots=True)
class CacheEntry:
    """The result of one node: ``outputs[slot]`` is the list of items that output produced."""

    outputs: list[list[Any]]
    ui: dict[str, list[Any]] | None
    nbytes: int
    node_id: str
    class_type: str


class ResultCache:
    """Node results by key, least recently used evicted first once ``budget_bytes`` is exceeded."""

    def __init__(self, budget_bytes: int = 4 << 30) -> None:
        self.budget_bytes = budget_bytes
        self._entries: OrderedDict[bytes, CacheEntry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: bytes) -> CacheEntry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def __contains__(self, key: bytes) -> bool:
        return key in self._entries

    def put(self, key: bytes, entry: CacheEntry) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            self._entries[key] = entry
            self._bytes += entry.nbytes
            while self._bytes > self.budget_bytes and len(self._entries) > 1:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.nbytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        return self._bytes
