"""Compile a ComfyUI V1 node class (``INPUT_TYPES``, ``RETURN_TYPES``, ``FUNCTION``, ...) into a NodeSpec.

The spec carries a :class:`~graphflow.plugins.classic_runner.ClassicRunner`, so the scheduler runs the
class with ComfyUI's semantics (custom-nodes.md §2-§4). Its ``object_info`` is what ComfyUI would emit
for the class: ``INPUT_TYPES()`` as declared, called afresh each time so file lists stay current, legacy
combos as ``[[...], opts]`` and ``["COMBO", {"options": ...}]`` combos in that style.

Classic inputs of any type accept a literal value in API prompts (ComfyUI passes it through uncoerced);
only INT/FLOAT/STRING/BOOLEAN are coerced. Inputs named in ``VALIDATE_INPUTS`` skip the min/max/choice
checks (all of them with ``**kwargs``), and an ``input_types`` parameter turns off link type checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from graphflow import types as t
from graphflow.plugins.classic_runner import ClassicRunner, call_pack_code, signature_of
from graphflow.spec import InputSpec, NodeSpec, OutputSpec

if TYPE_CHECKING:
    from graphflow.context import Runtime

_PROBE = "\x00graphflow-type-probe"


class ClassicNodeError(TypeError):
    """A classic node class cannot be used (missing or malformed class attributes)."""


@dataclass(frozen=True, eq=False)
class ClassicNodeSpec(NodeSpec):
    """A NodeSpec compiled from a V1 class; renders object_info from the class itself."""

    @cached_property
    def input_roles(self) -> dict[str, str]:
        # Links stay links; any other value is a literal the node receives as is (ComfyUI semantics).
        return {spec.name: "raw" if spec.raw_link else "constant" for spec in self.inputs}

    def object_info(self, runtime: Runtime | None = None) -> dict[str, Any]:
        runner: ClassicRunner = self.runner  # type: ignore[assignment]
        try:
            declared = call_pack_code(runtime, runner.cls.INPUT_TYPES)
            return _object_info(self, runner.cls, declared)
        except Exception:  # a pack whose INPUT_TYPES now fails still shows what it compiled to
            return super().object_info(runtime)


def normalize_type(value: Any) -> Any:
    """A wire type name from what a pack declared.

    Enum members give their value; ``str`` subclasses that compare equal to anything (the "any type"
    trick) become ``"*"``; lists (combo outputs) are kept.
    """
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, str) and type(value) is not str:
        return t.ANY if value == _PROBE else str.__str__(value)
    return value


def jsonable(value: Any) -> Any:
    """``value`` with tuples as lists and string subclasses as plain strings (what ComfyUI's JSON holds)."""
    if isinstance(value, Mapping):
        return {str(normalize_type(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (str, Enum)):
        return normalize_type(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


def _object_info(spec: NodeSpec, cls: type, declared: Mapping[str, Any]) -> dict[str, Any]:
    outputs = jsonable(list(getattr(cls, "RETURN_TYPES", ())))
    info: dict[str, Any] = {
        "input": jsonable(declared),
        "input_order": {str(section): [str(k) for k in entries] for section, entries in declared.items()},
        "output": outputs,
        "output_is_list": [bool(x) for x in getattr(cls, "OUTPUT_IS_LIST", [False] * len(outputs))],
        "output_name": jsonable(list(getattr(cls, "RETURN_NAMES", outputs))),
        "name": spec.class_type,
        "display_name": spec.display_name,
        "description": spec.description,
        "python_module": spec.python_module,
        "category": spec.category,
        "output_node": spec.output_node,
    }
    if hasattr(cls, "OUTPUT_TOOLTIPS"):
        info["output_tooltips"] = jsonable(list(cls.OUTPUT_TOOLTIPS))
    if spec.deprecated:
        info["deprecated"] = True
    if spec.experimental:
        info["experimental"] = True
    if hasattr(cls, "API_NODE"):
        info["api_node"] = cls.API_NODE
    return info


def _entry(class_type: str, name: str, entry: Any) -> tuple[Any, dict[str, Any]]:
    if isinstance(entry, (str, Enum)):
        entry = (entry,)
    if not isinstance(entry, (list, tuple)) or not entry:
        raise ClassicNodeError(
            f"{class_type}: input {name!r} is declared as {entry!r}; declare (TYPE,) or (TYPE, {{options}})"
        )
    options = entry[1] if len(entry) > 1 and isinstance(entry[1], Mapping) else {}
    return normalize_type(entry[0]), dict(options)


def _choices_reader(cls: type, section: str, name: str, fallback: list[Any]):
    """The current choices of a combo: INPUT_TYPES is asked again, so file lists stay up to date."""

    def choices(runtime: Runtime | None) -> list[Any]:
        try:
            declared = call_pack_code(runtime, cls.INPUT_TYPES)
            type_, options = _entry("", name, declared[section][name])
        except Exception:
            return fallback
        values = type_ if isinstance(type_, (list, tuple)) else options.get("options", fallback)
        return list(values)

    return choices


def _inputs(
    class_type: str, cls: type, declared: Mapping[str, Any], unchecked: frozenset[str], check_all: bool
) -> list[InputSpec]:
    found = []
    for section in ("required", "optional"):
        entries = declared.get(section) or {}
        if not isinstance(entries, Mapping):
            raise ClassicNodeError(f"{class_type}: INPUT_TYPES()[{section!r}] must be a dict of inputs")
        for name, entry in entries.items():
            type_, options = _entry(class_type, name, entry)
            check = not (check_all or name in unchecked or options.get("multiselect"))
            choices = None
            style = "list"
            if isinstance(type_, (list, tuple)):
                choices = _choices_reader(cls, section, name, list(type_))
                type_ = t.COMBO
            elif type_ == t.COMBO:
                style = "options"
                if isinstance(options.get("options"), (list, tuple)):
                    choices = _choices_reader(cls, section, name, list(options.pop("options")))
            if not isinstance(type_, str):
                raise ClassicNodeError(f"{class_type}: input {name!r} has type {type_!r}; use a type name")
            found.append(
                InputSpec(
                    str(name),
                    type_,
                    required=section == "required",
                    options=options,
                    choices=choices,
                    check_values=check,
                    combo_style=style,
                )
            )
    return found


def _hidden(declared: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    entries = declared.get("hidden") or {}
    hidden = []
    for name, kind in entries.items():
        if isinstance(kind, (list, tuple)) and kind:
            kind = kind[0]
        hidden.append((str(name), str(normalize_type(kind))))
    return tuple(hidden)


def _outputs(class_type: str, cls: type) -> tuple[OutputSpec, ...]:
    types = getattr(cls, "RETURN_TYPES", ())
    if isinstance(types, (str, Enum)) or not isinstance(types, Sequence):
        raise ClassicNodeError(f"{class_type}: RETURN_TYPES must be a tuple, e.g. ('IMAGE',) (got {types!r})")
    names = list(getattr(cls, "RETURN_NAMES", ()) or ())
    is_list = list(getattr(cls, "OUTPUT_IS_LIST", ()) or ())
    tooltips = list(getattr(cls, "OUTPUT_TOOLTIPS", ()) or ())
    outputs = []
    for slot, declared in enumerate(types):
        type_ = normalize_type(declared)
        type_ = t.COMBO if isinstance(type_, (list, tuple)) else str(type_)
        outputs.append(
            OutputSpec(
                type_,
                str(normalize_type(names[slot])) if slot < len(names) else type_,
                bool(is_list[slot]) if slot < len(is_list) else False,
                tooltips[slot] if slot < len(tooltips) else None,
            )
        )
    return tuple(outputs)


def compile_classic(
    class_type: str,
    cls: type,
    *,
    display_name: str | None = None,
    pack: str = "custom",
    python_module: str | None = None,
    runtime: Runtime | None = None,
) -> ClassicNodeSpec:
    """The NodeSpec of V1 class ``cls`` registered under ``class_type``.

    ``display_name`` comes from the pack's NODE_DISPLAY_NAME_MAPPINGS (default: ``class_type``);
    ``python_module`` defaults to ``"custom_nodes.<pack>"`` (the editor's source badge). Raises
    :class:`ClassicNodeError` naming the attribute to fix when the class is malformed.
    """
    if not isinstance(cls, type):
        raise ClassicNodeError(f"{class_type}: NODE_CLASS_MAPPINGS must map to classes, got {cls!r}")
    if not callable(getattr(cls, "INPUT_TYPES", None)):
        raise ClassicNodeError(f"{class_type}: the class has no INPUT_TYPES classmethod")
    function_name = getattr(cls, "FUNCTION", None)
    if not isinstance(function_name, str) or not callable(getattr(cls, function_name, None)):
        raise ClassicNodeError(
            f"{class_type}: FUNCTION must name a method of the class (FUNCTION = {function_name!r})"
        )
    declared = call_pack_code(runtime, cls.INPUT_TYPES)
    if not isinstance(declared, Mapping):
        raise ClassicNodeError(
            f"{class_type}: INPUT_TYPES() must return a dict, got {type(declared).__name__}"
        )
    validator = getattr(cls, "VALIDATE_INPUTS", None)
    validate_params, validate_all = signature_of(validator) if validator is not None else (frozenset(), False)
    inputs = _inputs(class_type, cls, declared, validate_params, validate_all)
    outputs = _outputs(class_type, cls)
    hidden = _hidden(declared)
    runner = ClassicRunner(
        cls,
        class_type,
        function_name,
        inputs=tuple(spec.name for spec in inputs),
        hidden=hidden,
        input_is_list=bool(getattr(cls, "INPUT_IS_LIST", False)),
        output_count=len(outputs),
    )
    return ClassicNodeSpec(
        class_type=class_type,
        display_name=str(display_name) if display_name else class_type,
        category=str(getattr(cls, "CATEGORY", "sd")),
        description=str(getattr(cls, "DESCRIPTION", "") or ""),
        python_module=python_module or f"custom_nodes.{pack}",
        version="classic",
        inputs=tuple(inputs),
        outputs=outputs,
        runner=runner,
        hidden=hidden,
        output_node=getattr(cls, "OUTPUT_NODE", False) == True,  # noqa: E712 - ComfyUI compares with ==
        input_is_list=runner.input_is_list,
        not_idempotent=bool(getattr(cls, "NOT_IDEMPOTENT", False)),
        accepts_undeclared_inputs=True,
        check_link_types="input_types" not in validate_params,
        deprecated=bool(getattr(cls, "DEPRECATED", False)),
        experimental=bool(getattr(cls, "EXPERIMENTAL", False)),
        pack=pack,
    )
