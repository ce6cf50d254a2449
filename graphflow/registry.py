"""NodeRegistry: the node types one runtime knows, which pack each came from, and ``object_info``.

A registry is an ordinary object: the CLI and server build one (built-in nodes, then packs) and pass it
around. Built-in node types cannot be replaced by packs; when two packs define the same type, the first
one loaded keeps it and the clash is recorded on both packs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphflow.spec import NodeSpec

if TYPE_CHECKING:
    from graphflow.context import Runtime


class RegistrationError(ValueError):
    """A node type could not be registered (bad declaration or a name already taken)."""


@dataclass
class PackStatus:
    """What happened when a node pack was loaded."""

    name: str
    source: str
    kind: str  # "builtin" | "native" | "classic" | "entry-point"
    loaded: bool = True
    error: str | None = None
    traceback: str | None = None
    nodes: list[str] = field(default_factory=list)
    clashes: list[str] = field(default_factory=list)
    web_directory: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "kind": self.kind,
            "loaded": self.loaded,
            "error": self.error,
            "traceback": self.traceback,
            "nodes": list(self.nodes),
            "clashes": list(self.clashes),
        }


class NodeRegistry:
    def __init__(self) -> None:
        self._specs: dict[str, NodeSpec] = {}
        self._packs: dict[str, PackStatus] = {}

    def register(self, node: NodeSpec | type, *, pack: PackStatus | None = None) -> NodeSpec | None:
        """Add a node type; returns its spec, or None when the name was already taken (a recorded clash)."""
        spec = node if isinstance(node, NodeSpec) else getattr(node, "spec", None)
        if not isinstance(spec, NodeSpec):
            raise RegistrationError(f"{node!r} is not a node: decorate it with @node(...)")
        pack = (
            pack
            or self._packs.get("graphflow")
            or self.add_pack(PackStatus("graphflow", "built-in", "builtin"))
        )
        existing = self._specs.get(spec.class_type)
        if existing is not None and existing is not spec:
            owner = self._packs.get(existing.pack)
            if owner is not None and owner.kind == "builtin":
                pack.clashes.append(f"{spec.class_type}: a built-in node type; packs cannot replace it")
            else:
                pack.clashes.append(f"{spec.class_type}: already defined by pack {existing.pack!r}")
                if owner is not None:
                    owner.clashes.append(f"{spec.class_type}: also defined by pack {pack.name!r} (ignored)")
            return None
        if spec.pack != pack.name:
            spec = _with_pack(spec, pack.name)
        self._specs[spec.class_type] = spec
        pack.nodes.append(spec.class_type)
        return spec

    def register_all(self, nodes: Iterable[NodeSpec | type], *, pack: PackStatus | None = None) -> None:
        for node in nodes:
            self.register(node, pack=pack)

    def add_pack(self, status: PackStatus) -> PackStatus:
        self._packs[status.name] = status
        return status

    @property
    def packs(self) -> list[PackStatus]:
        return list(self._packs.values())

    def get(self, class_type: str) -> NodeSpec | None:
        return self._specs.get(class_type)

    def __contains__(self, class_type: object) -> bool:
        return class_type in self._specs

    def __iter__(self) -> Iterator[NodeSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def object_info(self, runtime: Runtime | None = None) -> dict[str, Any]:
        """All node types in ComfyUI's ``/object_info`` format."""
        return {name: spec.object_info(runtime) for name, spec in self._specs.items()}


def _with_pack(spec: NodeSpec, pack: str) -> NodeSpec:
    from dataclasses import replace

    return replace(spec, pack=pack)
