"""Declaring a node: a small class with typed inputs, a typed output schema and one ``run``.

.. code-block:: python

    class ImageOutput(Outputs):
        image: Image = Output(name="IMAGE")

    @node("ImageInvert", display_name="Invert Image", category="image")
    class ImageInvert(Node):
        \"\"\"Invert the colours of an image batch (1 - x).\"\"\"

        image: Image = Input(tooltip="The images to invert.")

        def run(self, ctx: NodeContext) -> ImageOutput:
            return ImageOutput(1.0 - self.image)

Input types come from the annotation (``int`` → INT, ``float`` → FLOAT, ``str`` → STRING, ``bool`` →
BOOLEAN, ``str`` with ``options=`` → a combo, socket aliases from :mod:`graphflow.sockets`); ranges and
defaults from :func:`Input`. The return annotation of ``run`` is the output schema. Optional hooks:

- ``fingerprint(cls, runtime, **constants)`` (classmethod): a value that changes when the node must re-run
  although its inputs did not (ComfyUI's IS_CHANGED); ``float("nan")`` means "always re-run".
- ``validate(cls, runtime, **constants)`` (classmethod): return ``None`` when fine, a message, or a
  ``{input_name: message}`` dict.
- ``needs(self, ctx)``: for nodes with ``lazy=True`` inputs, the names of lazy inputs still needed
  (unevaluated ones are ``None`` on ``self``).
"""

from __future__ import annotations

import inspect
import sys
import types as pytypes
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, get_args, get_origin

from graphflow import types as t
from graphflow.sockets import Socket
from graphflow.spec import Choices, InputSpec, NodeSpec, OutputSpec
from graphflow.values import NodeResult

_MISSING: Any = object()
_SCALARS = {int: t.INT, float: t.FLOAT, str: t.STRING, bool: t.BOOLEAN}


class Input:
    """Declare a node input (use as the default value of an annotated class attribute).

    Args:
        default: initial value of a widget; omit for sockets.
        type: explicit type name, when the annotation does not say it (e.g. a union ``"IMAGE,MASK"``).
        min, max: inclusive bounds, checked at validation. step: the editor's increment (not checked).
        multiline: a STRING shown as a text area. options: a combo's values, or ``f(runtime) -> values``.
        tooltip: hover text in the editor. optional: the input may be left unconnected/absent.
        lazy: evaluated only if ``needs()`` asks for it. checked_by_node: the node's ``validate`` hook
        judges this value, so the built-in range and choice checks are skipped (ComfyUI does this for inputs
        named in VALIDATE_INPUTS). ui: other front-end hints, e.g.
        ``{"display": "color", "control_after_generate": True, "round": 0.01, "image_upload": True}``.
    """

    __slots__ = (
        "checked_by_node",
        "default",
        "lazy",
        "max",
        "min",
        "multiline",
        "options",
        "optional",
        "step",
        "tooltip",
        "type",
        "ui",
    )

    def __init__(
        self,
        default: Any = _MISSING,
        *,
        type: str | None = None,
        min: float | None = None,
        max: float | None = None,
        step: float | None = None,
        multiline: bool | None = None,
        options: Choices | None = None,
        tooltip: str | None = None,
        optional: bool = False,
        lazy: bool = False,
        checked_by_node: bool = False,
        ui: Mapping[str, Any] | None = None,
    ) -> None:
        self.default, self.type, self.min, self.max, self.step = default, type, min, max, step
        self.multiline, self.options, self.tooltip, self.optional = multiline, options, tooltip, optional
        self.lazy, self.checked_by_node, self.ui = lazy, checked_by_node, dict(ui or {})

    def to_spec(self, name: str, annotation: Any) -> InputSpec:
        type_name, literal_choices = _type_from_annotation(annotation, self.type)
        choices = self.options if self.options is not None else literal_choices
        if choices is not None:
            type_name = t.COMBO
        if type_name is None:
            raise TypeError(f"input {name!r}: cannot tell its type from {annotation!r}; pass Input(type=...)")
        opts: dict[str, Any] = {}
        if self.default is not _MISSING:
            opts["default"] = self.default
        for key, value in (("min", self.min), ("max", self.max), ("step", self.step)):
            if value is not None:
                opts[key] = value
        if self.multiline is not None:
            opts["multiline"] = self.multiline
        opts.update(self.ui)
        if self.lazy:
            opts["lazy"] = True
        if self.tooltip:
            opts["tooltip"] = self.tooltip
        return InputSpec(
            name,
            type_name,
            required=not self.optional,
            options=opts,
            choices=choices,
            check_values=not self.checked_by_node,
        )


class Output:
    """Declare one output of an :class:`Outputs` schema (the field's annotation gives its type)."""

    __slots__ = ("is_list", "name", "tooltip", "type")

    def __init__(
        self,
        *,
        name: str | None = None,
        type: str | None = None,
        tooltip: str | None = None,
        is_list: bool = False,
    ) -> None:
        self.name, self.type, self.tooltip, self.is_list = name, type, tooltip, is_list


class Outputs:
    """Base class of output schemas. Subclasses declare annotated fields with :class:`Output`.

    Instances are built positionally or by field name; ``ui=`` carries editor/history data such as
    ``{"images": [{"filename": ..., "subfolder": ..., "type": "output"}]}``. ``Outputs(ui=...)`` itself
    is the schema of a node without outputs.
    """

    _fields: ClassVar[tuple[str, ...]] = ()
    _output_specs: ClassVar[tuple[OutputSpec, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields, specs = [], []
        for name, annotation in _declared_annotations(cls, Output, allow_bare=True):
            declared = inspect.getattr_static(cls, name, None)
            out = declared if isinstance(declared, Output) else Output()
            type_name, _ = _type_from_annotation(annotation, out.type)
            if type_name is None:
                raise TypeError(f"{cls.__name__}.{name}: cannot tell the output type; use Output(type=...)")
            fields.append(name)
            specs.append(OutputSpec(type_name, out.name or type_name, out.is_list, out.tooltip))
        cls._fields, cls._output_specs = tuple(fields), tuple(specs)

    def __init__(self, *values: Any, ui: dict[str, list[Any]] | None = None, **named: Any) -> None:
        self.ui = ui
        if not named and len(values) == len(self._fields):  # the common, positional case
            self.__dict__.update(zip(self._fields, values, strict=True))
            return
        if len(values) > len(self._fields):
            raise TypeError(f"{type(self).__name__} takes {len(self._fields)} values, got {len(values)}")
        for name, value in zip(self._fields, values, strict=False):
            setattr(self, name, value)
        for name, value in named.items():
            if name not in self._fields:
                raise TypeError(f"{type(self).__name__} has no output {name!r}")
            setattr(self, name, value)
        missing = [name for name in self._fields if name not in self.__dict__]
        if missing:
            raise TypeError(f"{type(self).__name__} is missing {', '.join(missing)}")

    def as_result(self) -> NodeResult:
        return NodeResult(tuple(self.__dict__[name] for name in self._fields), self.ui)


class Node:
    """Base class of native nodes. Decorate subclasses with :func:`node`."""

    spec: ClassVar[NodeSpec]

    def run(self, ctx: Any) -> Outputs:  # pragma: no cover - abstract
        raise NotImplementedError


def _declared_annotations(
    cls: type, marker: type, allow_bare: bool = False, scope: dict[str, Any] | None = None
) -> list[tuple[str, Any]]:
    """(name, resolved annotation) of the attributes declared with ``marker`` (base classes first).

    Annotations are evaluated one by one in their defining module, so names a node module imports only
    for type checking (``NodeContext``) never need to resolve.
    """
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        module_globals = vars(inspect.getmodule(klass) or typing)
        for name, annotation in vars(klass).get("__annotations__", {}).items():
            if name.startswith("_"):
                continue
            declared = inspect.getattr_static(cls, name, None)
            if not (isinstance(declared, marker) or (allow_bare and declared is None)):
                continue
            if isinstance(annotation, str):
                annotation = eval(
                    annotation, module_globals, {**(scope or {}), **vars(klass)}
                )  # our own source
            found[name] = annotation
    return list(found.items())


def _return_schema(cls: type, scope: dict[str, Any]) -> Any:
    annotation = cls.run.__annotations__.get("return", "Outputs")
    if isinstance(annotation, str):
        module_globals = vars(inspect.getmodule(cls) or typing)
        annotation = eval(annotation, module_globals, {**scope, **vars(cls)})  # our own source
    return annotation


def _type_from_annotation(annotation: Any, explicit: str | None) -> tuple[str | None, tuple[Any, ...] | None]:
    if explicit is not None:
        return explicit, None
    for meta in getattr(annotation, "__metadata__", ()):
        if isinstance(meta, Socket):
            return meta.type, None
    origin = get_origin(annotation)
    if origin is Literal:
        return t.COMBO, get_args(annotation)
    if origin in (typing.Union, pytypes.UnionType):
        inner = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(inner) == 1:
            return _type_from_annotation(inner[0], None)
    return _SCALARS.get(annotation), None


class NativeRunner:
    """Calls a native node class: builds an instance holding its inputs and runs it."""

    def __init__(self, cls: type[Node], defaults: dict[str, Any]) -> None:
        self.cls = cls
        self.defaults = defaults
        self.is_async = inspect.iscoroutinefunction(cls.run)
        self.has_fingerprint = hasattr(cls, "fingerprint")
        self.has_validate = hasattr(cls, "validate")
        self.has_lazy_check = hasattr(cls, "needs")

    def _instance(self, inputs: dict[str, Any]) -> Node:
        instance = object.__new__(self.cls)
        instance.__dict__.update(self.defaults)
        instance.__dict__.update(inputs)
        return instance

    def call(self, ctx: Any, inputs: dict[str, Any]) -> Any:
        result = self._instance(inputs).run(ctx)
        if self.is_async:
            return self._finish_async(result)
        return _as_result(result)

    async def _finish_async(self, pending: Any) -> NodeResult:
        return _as_result(await pending)

    def fingerprint(self, runtime: Any, constants: dict[str, Any]) -> Any:
        return self.cls.fingerprint(runtime, **constants)  # type: ignore[attr-defined]

    def validate(
        self, runtime: Any, constants: dict[str, Any], input_types: dict[str, str]
    ) -> list[tuple[str | None, str]]:
        outcome = self.cls.validate(runtime, **constants)  # type: ignore[attr-defined]
        if outcome is None or outcome is True:
            return []
        if isinstance(outcome, dict):
            return [(name, str(message)) for name, message in outcome.items()]
        return [(None, str(outcome))]

    def check_lazy(self, ctx: Any, inputs: dict[str, Any]) -> Any:
        return self._instance(inputs).needs(ctx)  # type: ignore[attr-defined]


def _as_result(result: Any) -> NodeResult:
    if isinstance(result, Outputs):
        return result.as_result()
    if isinstance(result, NodeResult):
        return result
    if result is None:
        return NodeResult()
    raise TypeError(f"run() must return an Outputs instance, got {type(result).__name__}")


def _description(cls: type) -> str:
    doc = inspect.getdoc(cls) or ""
    return doc.split("\n\n", 1)[0].replace("\n", " ").strip()


def node(
    class_type: str,
    *,
    display_name: str | None = None,
    category: str = "graphflow",
    version: str = "1",
    python_module: str = "custom_nodes.graphflow",
    output_node: bool = False,
    hidden: tuple[str, ...] = (),
    input_is_list: bool = False,
    not_idempotent: bool = False,
    deprecated: bool = False,
    experimental: bool = False,
    description: str | None = None,
    search_aliases: tuple[str, ...] = (),
):
    """Class decorator that turns a :class:`Node` subclass into a node type (attaches ``cls.spec``).

    ``class_type`` is the name used in workflows. ``version`` lets saved workflows be migrated when the
    node changes. ``python_module`` sets the editor's source badge: ``"nodes"`` and ``"comfy_extras.*"``
    show as ComfyUI core, ``"custom_nodes.<pack>"`` as that pack. ``hidden`` lists ComfyUI hidden inputs
    (``"PROMPT"``, ``"EXTRA_PNGINFO"``, ``"UNIQUE_ID"``) the node reads through its context.
    """

    # Names visible where @node(...) is written (a class defined inside a function or a test).
    scope = dict(sys._getframe(1).f_locals)

    def decorate(cls: type[Node]) -> type[Node]:
        inputs, defaults = [], {}
        for name, annotation in _declared_annotations(cls, Input, scope=scope):
            declared = inspect.getattr_static(cls, name)
            inputs.append(declared.to_spec(name, annotation))
            defaults[name] = None if declared.default is _MISSING else declared.default
        schema = _return_schema(cls, scope)
        if not (isinstance(schema, type) and issubclass(schema, Outputs)):
            raise TypeError(f"{cls.__name__}.run must be annotated to return an Outputs subclass")
        cls.spec = NodeSpec(
            class_type=class_type,
            display_name=display_name or class_type,
            category=category,
            description=description if description is not None else _description(cls),
            python_module=python_module,
            version=version,
            inputs=tuple(inputs),
            outputs=schema._output_specs,
            runner=NativeRunner(cls, defaults),
            hidden=tuple((kind.lower(), kind) for kind in hidden),
            output_node=output_node,
            input_is_list=input_is_list,
            not_idempotent=not_idempotent,
            deprecated=deprecated,
            experimental=experimental,
            search_aliases=search_aliases,
        )
        return cls

    return decorate
