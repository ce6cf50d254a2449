"""Errors raised while reading or converting a workflow. Every message says what is wrong and how to fix it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class WorkflowError(ValueError):
    """A workflow file cannot be read or converted."""


@dataclass(frozen=True)
class MissingNode:
    """One node whose type graphflow does not know: its (path) id, its type and its title."""

    node_id: str
    type: str
    title: str


class UnknownNodeTypeError(WorkflowError):
    """The workflow uses node types that are neither installed nor front-end-only.

    ``missing`` lists every such node, so the user can fix them all at once.
    """

    def __init__(self, missing: Sequence[MissingNode]) -> None:
        self.missing = list(missing)
        types = sorted({m.type for m in self.missing})
        lines = [
            f"  - node {m.node_id} {m.title!r}: type {m.type!r}"
            if m.title and m.title != m.type
            else f"  - node {m.node_id}: type {m.type!r}"
            for m in self.missing
        ]
        noun = "type" if len(types) == 1 else "types"
        message = (
            f"This workflow uses {len(types)} node {noun} that graphflow does not have "
            f"({', '.join(repr(t) for t in types)}):\n" + "\n".join(lines) + "\n"
            "Install the custom-node pack that provides them (put it in custom_nodes/ and restart), "
            "or remove or bypass these nodes in the editor, then try again."
        )
        super().__init__(message)
