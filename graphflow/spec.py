"""NodeSpec: the one normalised description of a node type that the registry, validator and scheduler use.

Native graphflow nodes (``graphflow.node``) and ComfyUI classic nodes (``graphflow.plugins.classic``) are
both compiled into a :class:`NodeSpec`; nothing downstream knows which style a node was written in. A spec
also renders itself as a ComfyUI ``object_info`` entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from graphflow.types import COMBO, WIDGET_TYPES

if TYPE_CHECKING:
    from graphflow.context import NodeContext, Runtime

Choices = Sequence[Any] | Callable[["Runtime"], Sequence[Any]]


@dataclass(frozen=True, eq=False)
class InputSpec:
    """One declared input.

    ``type`` is a widget type (``INT``, ``FLOAT``, ``STRING``, ``BOOLEAN``, ``COMBO``), a socket type, ``"*"``
    or a union. ``options`` are the object_info options (default, min, max, step, tooltip, UI hints).
    ``choices`` holds a combo's values, or a function of the runtime that lists them (model files).
    ``check_values``: False when the node's own validation hook takes over min/max/choice checks.
    """

    name: str
    type: str
    required: bool = True
    options: Mapping[str, Any] = field(default_factory=dict)
    choices: Choices | None = None
    check_values: bool = True
    combo_style: str = "list"  # "list": [[choices], opts] as core ComfyUI nodes; "options": ["COMBO", {...}]

    @property
    def is_widget(self) -> bool:
        """A constant typed into the editor (as opposed to a socket fed by a link)."""
        return self.type in WIDGET_TYPES and not self.options.get("forceInput", False)

    @property
    def accepts_constant(self) -> bool:
        return self.type in WIDGET_TYPES

    @property
    def lazy(self) -> bool:
        return bool(self.options.get("lazy", False))

    @property
    def raw_link(self) -> bool:
        return bool(self.options.get("rawLink", False))

    @property
    def default(self) -> Any:
        return self.options.get("default")

    def choice_list(self, runtime: Runtime | None) -> list[Any] | None:
        if self.choices is None:
            return None
        if callable(self.choices):
            return list(self.choices(runtime)) if runtime is not None else []
        return list(self.choices)

    def object_info(self, runtime: Runtime | None) -> list[Any]:
        options = dict(self.options)
        if self.type == COMBO:
            values = self.choice_list(runtime) or []
            if self.combo_style == "options":
                return [COMBO, {**options, "options": values}]
            return [values, options] if options else [values]
        return [self.type, options] if options else [self.type]


@dataclass(frozen=True, eq=False)
class OutputSpec:
    type: str
    name: str
    is_list: bool = False
    tooltip: str | None = None


class NodeRunner(Protocol):
    """How the scheduler calls a node type; implemented once per node style (native, classic)."""

    is_async: bool
    has_fingerprint: bool
    has_validate: bool
    has_lazy_check: bool

    def call(self, ctx: NodeContext, inputs: dict[str, Any]) -> Any:
        """Run the node once; return a :class:`graphflow.values.NodeResult` (or an awaitable of one)."""

    def fingerprint(self, runtime: Runtime, constants: dict[str, Any]) -> Any: ...

    def validate(
        self, runtime: Runtime, constants: dict[str, Any], input_types: dict[str, str]
    ) -> list[tuple[str | None, str]]:
        """Problems found by the node's own check, as (input name or None, message) pairs."""

    def check_lazy(self, ctx: NodeContext, inputs: dict[str, Any]) -> Any: ...


@dataclass(frozen=True, eq=False)
class NodeSpec:
    class_type: str
    display_name: str
    category: str
    description: str
    python_module: str
    version: str
    inputs: tuple[InputSpec, ...]
    outputs: tuple[OutputSpec, ...]
    runner: NodeRunner
    hidden: tuple[tuple[str, str], ...] = ()
    output_node: bool = False
    input_is_list: bool = False
    not_idempotent: bool = False
    accepts_undeclared_inputs: bool = False
    check_link_types: bool = True
    deprecated: bool = False
    experimental: bool = False
    search_aliases: tuple[str, ...] = ()
    pack: str = "graphflow"

    @cached_property
    def input_map(self) -> dict[str, InputSpec]:
        return {spec.name: spec for spec in self.inputs}

    @cached_property
    def type_version(self) -> str:
        return f"{self.class_type}@{self.version}"

    @cached_property
    def input_roles(self) -> dict[str, str]:
        """Per input: ``"raw"`` (receives its link), ``"constant"`` (a widget value) or ``"socket"``."""
        return {
            spec.name: "raw" if spec.raw_link else "constant" if spec.accepts_constant else "socket"
            for spec in self.inputs
        }

    @cached_property
    def required_inputs(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.inputs if spec.required)

    @cached_property
    def has_dynamic_choices(self) -> bool:
        return any(callable(spec.choices) for spec in self.inputs)

    @cached_property
    def hidden_kinds(self) -> dict[str, str]:
        return dict(self.hidden)

    @cached_property
    def uses_unique_id(self) -> bool:
        return self.not_idempotent or "UNIQUE_ID" in self.hidden_kinds.values()

    @cached_property
    def has_lazy_inputs(self) -> bool:
        return any(spec.lazy for spec in self.inputs)

    def object_info(self, runtime: Runtime | None = None) -> dict[str, Any]:
        """This node type as ComfyUI's ``/object_info`` describes it."""
        sections: dict[str, dict[str, Any]] = {"required": {}}
        order: dict[str, list[str]] = {"required": []}
        for spec in self.inputs:
            section = "required" if spec.required else "optional"
            sections.setdefault(section, {})[spec.name] = spec.object_info(runtime)
            order.setdefault(section, []).append(spec.name)
        if self.hidden:
            sections["hidden"] = {name: kind for name, kind in self.hidden}
            order["hidden"] = [name for name, _ in self.hidden]
        info: dict[str, Any] = {
            "input": sections,
            "input_order": order,
            "output": [out.type for out in self.outputs],
            "output_is_list": [out.is_list for out in self.outputs],
            "output_name": [out.name for out in self.outputs],
            "name": self.class_type,
            "display_name": self.display_name,
            "description": self.description,
            "python_module": self.python_module,
            "category": self.category,
            "output_node": self.output_node,
        }
        if any(out.tooltip for out in self.outputs):
            info["output_tooltips"] = [out.tooltip for out in self.outputs]
        if self.deprecated:
            info["deprecated"] = True
        if self.experimental:
            info["experimental"] = True
        if self.search_aliases:
            info["search_aliases"] = list(self.search_aliases)
        return info
