"""``--set NODE.INPUT=VALUE`` overrides and sweeps for ``graphflow run``."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class SetError(ValueError):
    """A ``--set`` argument that cannot be applied; the message says how to write it."""


@dataclass(frozen=True)
class Override:
    node_id: str
    input_name: str
    values: tuple[Any, ...]
    label: str


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _values(text: str) -> tuple[Any, ...]:
    text = text.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError as error:
            raise SetError(f"cannot read the JSON list {text!r}: {error}") from None
        return tuple(parsed)
    return tuple(_parse_value(part.strip()) for part in text.split(","))


def _find_node(prompt: Mapping[str, Any], ref: str) -> str:
    if ref in prompt:
        return ref
    by_title = [nid for nid, node in prompt.items() if (node.get("_meta") or {}).get("title") == ref]
    by_type = [nid for nid, node in prompt.items() if node.get("class_type") == ref]
    for matches in (by_title, by_type):
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise SetError(f"{ref!r} matches nodes {', '.join(matches)}; use a node id instead")
    raise SetError(f"no node with id, title or type {ref!r} (node ids: {', '.join(list(prompt)[:20])})")


def parse_overrides(prompt: Mapping[str, Any], specs: list[str]) -> list[Override]:
    overrides = []
    for spec in specs:
        target, sep, value_text = spec.partition("=")
        node_ref, dot, input_name = target.rpartition(".")
        if not sep or not dot or not node_ref or not input_name:
            raise SetError(
                f"--set {spec!r}: write NODE.INPUT=VALUE, e.g. --set 3.seed=42 or --set 3.seed=1,2,3"
            )
        node_id = _find_node(prompt, node_ref)
        overrides.append(Override(node_id, input_name, _values(value_text), target))
    return overrides


def variants(
    prompt: Mapping[str, Any], overrides: list[Override]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every combination of the overrides' values: (applied values by label, prompt copy)."""
    if not overrides:
        return [({}, dict(prompt))]
    result = []
    for combo in itertools.product(*(o.values for o in overrides)):
        variant = copy.deepcopy(dict(prompt))
        applied = {}
        for override, value in zip(overrides, combo, strict=True):
            variant[override.node_id].setdefault("inputs", {})[override.input_name] = value
            applied[override.label] = value
        result.append((applied, variant))
    return result
