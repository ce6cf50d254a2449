"""Content-addressed cache keys.

A node's key is a 128-bit digest of its type and version, its constant inputs, the *keys* of the nodes
feeding it (with output slots), its fingerprint, and — only for non-idempotent nodes — its id. Because
upstream keys are themselves digests, computing every key of a prompt is linear in its size, and an
identical subgraph hits the cache whatever its node ids and whichever prompt it came from.
"""

from __future__ import annotations

import math
import uuid
from hashlib import blake2b
from typing import TYPE_CHECKING, Any

from graphflow.reasons import KeyParts

if TYPE_CHECKING:
    from graphflow.graph import GraphNode

_SCALAR_TYPES = (str, int, bool, type(None))


def canonical(value: Any) -> str:
    """A deterministic text form of a JSON-like value; anything else gets a one-off token.

    One-off tokens (also used for NaN) make a key that never matches, so values that cannot be compared
    safely are never served from cache.
    """
    kind = type(value)
    if kind in _SCALAR_TYPES:
        return repr(value)
    if kind is float:
        return repr(value) if math.isfinite(value) or math.isinf(value) else f"<nan {uuid.uuid4().hex}>"
    if kind in (list, tuple):
        return "[" + ",".join(canonical(item) for item in value) + "]"
    if kind is dict:
        try:
            items = sorted(value.items())
        except TypeError:
            return f"<unsortable {uuid.uuid4().hex}>"
        return "{" + ",".join(f"{canonical(k)}:{canonical(v)}" for k, v in items) + "}"
    return f"<object {uuid.uuid4().hex}>"


def node_key(
    class_type: str,
    version: str,
    constant_parts: dict[str, str],
    upstream: list[tuple[str, bytes, int]],
    fingerprint_part: str | None = None,
    unique_id: str | None = None,
) -> bytes:
    """The cache key of one node.

    ``constant_parts`` maps input name → :func:`canonical` text of its value; ``upstream`` lists
    (input name, source key, source slot); ``fingerprint_part`` is the canonical fingerprint, if any.
    """
    parts = [class_type, version]
    if constant_parts:
        parts.extend(f"{name}={constant_parts[name]}" for name in sorted(constant_parts))
    if upstream:
        parts.extend(f"{name}<{key.hex()}:{slot}" for name, key, slot in sorted(upstream))
    if fingerprint_part is not None:
        parts.append(f"fp={fingerprint_part}")
    if unique_id is not None:
        parts.append(f"id={unique_id}")
    return blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=16).digest()


class KeyMemo:
    """Keys of nodes already seen (same type, constants, upstream keys and fingerprint), bounded."""

    def __init__(self, limit: int = 200_000) -> None:
        self._entries: dict[tuple[Any, ...], KeyParts] = {}
        self._limit = limit

    def get(self, recall: tuple[Any, ...]) -> KeyParts | None:
        return self._entries.get(recall)

    def put(self, recall: tuple[Any, ...], parts: KeyParts) -> None:
        if len(self._entries) >= self._limit:
            self._entries.clear()
        self._entries[recall] = parts


def compute_keys(
    nodes: dict[str, GraphNode],
    order: list[str],
    runtime: Any,
    memo: KeyMemo,
    keys: dict[str, bytes],
    parts_by_node: dict[str, KeyParts],
) -> None:
    """Fill ``keys`` and ``parts_by_node`` for the nodes in ``order`` (dependencies first)."""
    for nid in order:
        node = nodes[nid]
        spec = node.spec
        links = node.links
        fingerprint = None
        if spec.runner.has_fingerprint:
            args = dict(node.constants)
            args.update(dict.fromkeys(links))
            try:
                fingerprint = spec.runner.fingerprint(runtime, args)
            except Exception:  # a failing fingerprint means "always run", as in ComfyUI
                fingerprint = float("nan")
        unique = nid if spec.uses_unique_id else None
        try:  # the same node seen before: reuse its key without re-hashing
            # types are part of the recall: 1, 1.0 and True are equal in Python but not as inputs
            recall = (
                spec,
                unique,
                type(fingerprint),
                fingerprint,
                *[(name, type(value), value) for name, value in node.constants.items()],
                *[(name, keys[src], slot) for name, (src, slot) in links.items()],
            )
            parts = memo.get(recall) if fingerprint == fingerprint else None  # NaN never recalls
        except TypeError:  # an unhashable constant
            recall, parts = None, None
        if parts is None:
            constants = {name: canonical(value) for name, value in node.constants.items()}
            upstream = {name: (keys[src], slot) for name, (src, slot) in links.items()}
            fingerprint_text = None if fingerprint is None else canonical(fingerprint)
            key = node_key(
                spec.class_type,
                spec.version,
                constants,
                [(name, k, slot) for name, (k, slot) in upstream.items()],
                fingerprint_text,
                unique,
            )
            parts = KeyParts(spec.type_version, constants, upstream, fingerprint_text, key)
            if recall is not None and fingerprint == fingerprint:
                memo.put(recall, parts)
        keys[nid] = parts.key
        parts_by_node[nid] = parts
