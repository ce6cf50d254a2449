"""Why a node ran, or why it was served from cache, in words a user understands.

The scheduler records what each node id's key was made of; on the next run it compares the new parts
with the old ones ("input 'seed' changed", "upstream input 'image' changed", "evicted from the cache").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class KeyParts:
    type_version: str
    constants: dict[str, str]
    upstream: dict[str, tuple[bytes, int]]
    fingerprint: str | None
    key: bytes


_VOLATILE = ("<nan ", "<object ", "<unsortable ")


def _volatile(text: str | None) -> bool:
    return text is not None and any(token in text for token in _VOLATILE)


class ReasonBook:
    """Remembers the key parts of the last run of every node id (bounded)."""

    def __init__(self, limit: int = 200_000) -> None:
        self._last: dict[str, KeyParts] = {}
        self._limit = limit

    def remember(self, node_id: str, parts: KeyParts) -> None:
        if len(self._last) >= self._limit and node_id not in self._last:
            self._last.clear()
        self._last[node_id] = parts

    def why_run(self, node_id: str, parts: KeyParts) -> str:
        if _volatile(parts.fingerprint):
            return "it asks to run every time (its fingerprint never matches)"
        if any(_volatile(text) for text in parts.constants.values()):
            return "an input value cannot be compared, so its result is not reused"
        before = self._last.get(node_id)
        if before is None:
            return "not computed before"
        if before.type_version != parts.type_version:
            return "the node type or its version changed"
        changed = sorted(
            name
            for name in parts.constants.keys() | before.constants.keys()
            if parts.constants.get(name) != before.constants.get(name)
        )
        if changed:
            return "input " + ", ".join(f"'{name}'" for name in changed) + " changed"
        if parts.fingerprint != before.fingerprint:
            return "its fingerprint changed (for example, the file it reads changed)"
        upstream = sorted(
            name
            for name in parts.upstream.keys() | before.upstream.keys()
            if parts.upstream.get(name) != before.upstream.get(name)
        )
        if upstream:
            return "upstream input " + ", ".join(f"'{name}'" for name in upstream) + " changed"
        return "its earlier result was evicted from the cache"

    @staticmethod
    def why_cached(node_id: str, producer_id: str) -> str:
        if producer_id != node_id:
            return f"identical to a result already computed for node {producer_id}"
        return "inputs unchanged since it last ran"
