"""Validate and coerce constant input values with pydantic, reporting problems in ComfyUI's terms.

Each widget input gets one pydantic ``TypeAdapter`` (built once and kept on the side): INT → ``int`` with
its bounds, FLOAT → ``float``, STRING → ``str`` (numbers become text, as in ComfyUI), BOOLEAN → ``bool``
parsed strictly (``"false"`` is False, unlike ComfyUI's ``bool("false")``). Combo values are checked
against their choices, including ``"COMBO"``-style options that ComfyUI leaves unchecked.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError

from graphflow import types as t
from graphflow.errors import Problem
from graphflow.spec import InputSpec, NodeSpec

if TYPE_CHECKING:
    from graphflow.context import Runtime

_PY_TYPES: dict[str, Any] = {t.INT: int, t.FLOAT: float, t.STRING: str, t.BOOLEAN: bool}
_HUMAN = {t.INT: "a whole number", t.FLOAT: "a number", t.STRING: "text", t.BOOLEAN: "true or false"}
_CONFIG = ConfigDict(coerce_numbers_to_str=True)
_adapters: dict[int, tuple[InputSpec, TypeAdapter[Any] | None]] = {}


def _adapter(spec: InputSpec) -> TypeAdapter[Any] | None:
    cached = _adapters.get(id(spec))
    if cached is not None and cached[0] is spec:
        return cached[1]
    py_type = _PY_TYPES.get(spec.type)
    adapter = None
    if py_type is not None:
        bounds: dict[str, Any] = {}
        if spec.check_values and spec.type in (t.INT, t.FLOAT):
            if spec.options.get("min") is not None:
                bounds["ge"] = spec.options["min"]
            if spec.options.get("max") is not None:
                bounds["le"] = spec.options["max"]
        annotated = Annotated[py_type, Field(**bounds)] if bounds else py_type
        adapter = TypeAdapter(annotated, config=None if py_type is not str else _CONFIG)
    _adapters[id(spec)] = (spec, adapter)  # keeps spec alive, so id() stays unique
    return adapter


def _range_fix(spec: InputSpec) -> str:
    low, high = spec.options.get("min"), spec.options.get("max")
    if low is not None and high is not None:
        return f"set {spec.name} to a value from {low} to {high}"
    if low is not None:
        return f"set {spec.name} to at least {low}"
    return f"set {spec.name} to at most {high}"


def _problem_from_pydantic(spec: InputSpec, value: Any, error: ValidationError) -> Problem:
    first = error.errors(include_url=False)[0]
    kind = first.get("type", "")
    config = spec.object_info(None)
    if kind in ("greater_than_equal", "greater_than"):
        return Problem(
            "value_smaller_than_min",
            f"Value {value} smaller than min of {spec.options.get('min')}",
            spec.name,
            spec.name,
            _range_fix(spec),
            {"input_config": config, "received_value": value},
        )
    if kind in ("less_than_equal", "less_than"):
        return Problem(
            "value_bigger_than_max",
            f"Value {value} bigger than max of {spec.options.get('max')}",
            spec.name,
            spec.name,
            _range_fix(spec),
            {"input_config": config, "received_value": value},
        )
    example = spec.options.get("default")
    fix = f"give {spec.name} {_HUMAN.get(spec.type, 'a valid value')}"
    if example is not None:
        fix += f", e.g. {example!r}"
    return Problem(
        "invalid_input_type",
        f"Failed to convert an input value to a {spec.type} value",
        f"{spec.name}, {value!r}, {first.get('msg', '')}",
        spec.name,
        fix,
        {
            "input_config": config,
            "received_value": _jsonable(value),
            "exception_message": first.get("msg", ""),
        },
    )


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return repr(value)


def check_choice(spec: InputSpec, value: Any, runtime: Runtime | None) -> Problem | None:
    """A combo value must be one of its choices (file lists are read now, so new files count)."""
    choices = spec.choice_list(runtime)
    if choices is None or not spec.check_values:
        return None
    try:
        if value in choices:
            return None
    except TypeError:
        pass
    shown = ", ".join(repr(c) for c in choices[:20]) + (" ..." if len(choices) > 20 else "")
    extra: dict[str, Any] = {"received_value": _jsonable(value)}
    if len(choices) <= 20:
        extra["input_config"] = spec.object_info(None)
    if choices:
        fix = f"choose one of: {shown}"
    else:
        when_empty = getattr(spec.choices, "when_empty", None)  # e.g. model files: where to put one
        fix = when_empty(runtime) if when_empty and runtime else f"no values are available for {spec.name}"
    return Problem(
        "value_not_in_list",
        "Value not in list",
        f"{spec.name}: {value!r} not in [{shown}]",
        spec.name,
        fix,
        extra,
    )


def coerce_constants(
    spec: NodeSpec, constants: dict[str, Any], runtime: Runtime | None
) -> tuple[dict[str, Any], list[Problem]]:
    """Coerce every declared widget constant; return the values to run with and any problems."""
    coerced: dict[str, Any] = {}
    problems: list[Problem] = []
    input_map = spec.input_map
    for name, value in constants.items():
        ispec = input_map.get(name)
        if ispec is None or ispec.raw_link:  # undeclared inputs and rawLink links pass through (ComfyUI)
            coerced[name] = value
            continue
        if ispec.type == t.COMBO:
            problem = check_choice(ispec, value, runtime)
            if problem is not None:
                problems.append(problem)
            coerced[name] = value
            continue
        adapter = _adapter(ispec)
        if adapter is None:
            coerced[name] = value
            continue
        try:
            coerced[name] = adapter.validate_python(value)
        except ValidationError as error:
            problems.append(_problem_from_pydantic(ispec, value, error))
    return coerced, problems
