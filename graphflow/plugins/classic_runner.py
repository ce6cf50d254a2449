"""Run a ComfyUI V1 node class the way ComfyUI does (the ``NodeRunner`` of classic nodes).

- One instance per node id is created and kept across prompts (state on ``self`` persists), like
  ComfyUI's objects cache; ``check_lazy_status`` and ``FUNCTION`` run on that instance.
- Keyword arguments: the inputs the scheduler gathered (whole lists for ``INPUT_IS_LIST`` classes), the
  declared hidden inputs (PROMPT, EXTRA_PNGINFO, UNIQUE_ID, DYNPROMPT, Comfy.org credentials), and
  undeclared inputs when the function can take them (``**kwargs`` or a parameter of that name).
- Returns: a tuple, ``{"result", "ui"}``, ``{"ui"}``, ``{"result", "expand"}`` or an ExecutionBlocker.
- Every call into pack code runs with the ComfyUI stand-in modules importable and the current node set,
  so ``ProgressBar``, ``folder_paths`` and ``GraphBuilder`` work. ``async def`` hooks are awaited.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import sys
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from graphflow.plugins.compat import compat_modules
from graphflow.plugins.compat.graph import DynamicPrompt
from graphflow.plugins.current import active, installation_for, node_call
from graphflow.values import ExecutionBlocker, NodeResult

if TYPE_CHECKING:
    from graphflow.context import NodeContext, Runtime

INSTANCE_LIMIT = 4096  # node instances kept per class (oldest dropped, as ComfyUI drops unused ones)
_SKIP = object()


def resolve_awaitable(value: Any) -> Any:
    """The result of ``value``, awaiting it when a pack hook is ``async def``.

    Inside a running event loop (the scheduler's), the coroutine runs to completion on a helper thread
    with a copy of the current context, so the current node stays visible to it.
    """
    if not inspect.isawaitable(value):
        return value

    async def wait() -> Any:
        return await value

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(wait())
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="graphflow-pack-hook") as pool:
        return pool.submit(context.run, asyncio.run, wait()).result()


def call_pack_code(runtime: Runtime | None, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call pack code outside a node run (INPUT_TYPES, validation) with the stand-in modules importable."""
    scope: AbstractContextManager[Any] = (
        active(installation_for(runtime)) if runtime is not None else nullcontext()
    )
    with compat_modules(), scope:
        return resolve_awaitable(function(*args, **kwargs))


def _no_grad() -> AbstractContextManager[Any]:
    """Classic nodes run without autograd, as in ComfyUI (only if torch is already in use)."""
    torch = sys.modules.get("torch")
    return torch.no_grad() if torch is not None else nullcontext()


def signature_of(function: Any) -> tuple[frozenset[str], bool]:
    """(parameter names, has ``**kwargs``) of a callable; ``(∅, True)`` when it cannot be inspected."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return frozenset(), True
    names = frozenset(p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
    return names, any(p.kind is p.VAR_KEYWORD for p in parameters)


def hidden_value(kind: str, ctx: NodeContext | None) -> Any:
    """The value of a hidden input for a node run (``ctx``) or a validation-time hook (``None``)."""
    if kind == "PROMPT":
        return ctx.prompt if ctx is not None else {}
    if kind == "UNIQUE_ID":
        return ctx.node_id if ctx is not None else None
    if kind == "EXTRA_PNGINFO":
        return ctx.extra_pnginfo if ctx is not None else None
    if kind == "DYNPROMPT":
        return DynamicPrompt(getattr(ctx, "graph_nodes", None), ctx.prompt) if ctx is not None else None
    if kind in ("AUTH_TOKEN_COMFY_ORG", "API_KEY_COMFY_ORG"):
        return ctx.extra_data.get(kind.lower()) if ctx is not None else None
    return _SKIP


class ClassicRunner:
    """Calls one V1 class; see the module docstring for the rules."""

    def __init__(
        self,
        cls: type,
        class_type: str,
        function_name: str,
        *,
        inputs: tuple[str, ...],
        hidden: tuple[tuple[str, str], ...],
        input_is_list: bool,
        output_count: int,
    ) -> None:
        self.cls = cls
        self.class_type = class_type
        self.function_name = function_name
        self.declared = frozenset(inputs)
        self.hidden = hidden
        self.input_is_list = input_is_list
        self.output_count = output_count
        self.is_async = inspect.iscoroutinefunction(getattr(cls, function_name))
        self.has_fingerprint = callable(getattr(cls, "IS_CHANGED", None))
        self.has_validate = callable(getattr(cls, "VALIDATE_INPUTS", None))
        self.has_lazy_check = callable(getattr(cls, "check_lazy_status", None))
        self._function_params = signature_of(getattr(cls, function_name))
        self._hook_params = {
            hook: signature_of(getattr(cls, hook))
            for hook in ("IS_CHANGED", "VALIDATE_INPUTS", "check_lazy_status")
            if callable(getattr(cls, hook, None))
        }
        self._instances: OrderedDict[str, Any] = OrderedDict()
        self._last_ctx: NodeContext | None = None
        self._call_index = 0

    # -- instances and arguments ---------------------------------------------------------------------
    def instance(self, node_id: str) -> Any:
        """The kept instance for a node id (created on first use)."""
        found = self._instances.get(node_id)
        if found is None:
            found = self.cls()
            self._instances[node_id] = found
            if len(self._instances) > INSTANCE_LIMIT:
                self._instances.popitem(last=False)
        else:
            self._instances.move_to_end(node_id)
        return found

    def _wrap(self, value: Any) -> Any:
        return [value] if self.input_is_list else value

    def _arguments(
        self, ctx: NodeContext, inputs: dict[str, Any], params: tuple[frozenset[str], bool]
    ) -> dict:
        names, takes_any = params
        kwargs = {
            name: value
            for name, value in inputs.items()
            if name in self.declared or takes_any or name in names
        }
        for name, kind in self.hidden:
            value = hidden_value(kind, ctx)
            if value is not _SKIP:
                kwargs[name] = self._wrap(value)
        return kwargs

    def _hook_arguments(self, hook: str, constants: dict[str, Any]) -> dict[str, Any]:
        """Arguments of a class-level hook: declared inputs and hidden values it names (or all, **kwargs)."""
        names, takes_any = self._hook_params[hook]
        wanted = {
            name: self._wrap(value)
            for name, value in constants.items()
            if name in self.declared and (takes_any or name in names)
        }
        for name, kind in self.hidden:
            if takes_any or name in names:
                value = hidden_value(kind, None)
                if value is not _SKIP:
                    wanted[name] = self._wrap(value)
        return wanted

    def _next_call_index(self, ctx: NodeContext) -> int:
        # The scheduler calls a node once per list item with the same context: count those calls.
        if ctx is self._last_ctx:
            self._call_index += 1
        else:
            self._last_ctx, self._call_index = ctx, 0
        return self._call_index

    # -- NodeRunner --------------------------------------------------------------------------------
    def call(self, ctx: NodeContext, inputs: dict[str, Any]) -> Any:
        index = self._next_call_index(ctx)
        kwargs = self._arguments(ctx, inputs, self._function_params)
        if self.is_async:
            return self._call_async(ctx, index, kwargs)
        with compat_modules(), node_call(ctx, index), _no_grad():
            function = getattr(self.instance(ctx.node_id), self.function_name)
            returned = function(**kwargs)
        return self.result(returned)

    async def _call_async(self, ctx: NodeContext, index: int, kwargs: dict[str, Any]) -> Any:
        with compat_modules(), node_call(ctx, index):
            function = getattr(self.instance(ctx.node_id), self.function_name)
            returned = await function(**kwargs)
        return self.result(returned)

    def fingerprint(self, runtime: Runtime, constants: dict[str, Any]) -> Any:
        arguments = self._hook_arguments("IS_CHANGED", constants)
        return call_pack_code(runtime, self.cls.IS_CHANGED, **arguments)

    def validate(
        self, runtime: Runtime, constants: dict[str, Any], input_types: dict[str, str]
    ) -> list[tuple[str | None, str]]:
        arguments = self._hook_arguments("VALIDATE_INPUTS", constants)
        if "input_types" in self._hook_params["VALIDATE_INPUTS"][0]:
            arguments["input_types"] = self._wrap(dict(input_types))
        outcome = call_pack_code(runtime, self.cls.VALIDATE_INPUTS, **arguments)
        if outcome is True or type(outcome) is ExecutionBlocker:
            return []
        message = "" if outcome is False else str(outcome)
        if not arguments:  # ComfyUI would report nothing here; say which node failed at least
            return [(None, message or "the node's own validation (VALIDATE_INPUTS) failed")]
        return [(name, message) for name in arguments]  # one error per input passed, as ComfyUI

    def check_lazy(self, ctx: NodeContext, inputs: dict[str, Any]) -> list[str]:
        kwargs = self._arguments(ctx, inputs, self._hook_params["check_lazy_status"])
        with compat_modules(), node_call(ctx, 0):
            wanted = resolve_awaitable(self.instance(ctx.node_id).check_lazy_status(**kwargs))
        if wanted is None:
            return []
        return [wanted] if isinstance(wanted, str) else list(wanted)

    # -- results -------------------------------------------------------------------------------------
    def _outputs(self, value: Any) -> tuple[Any, ...]:
        if type(value) is ExecutionBlocker:
            return (value,) * self.output_count
        if isinstance(value, (tuple, list)):
            return tuple(value)
        if value is None and self.output_count == 0:
            return ()
        raise TypeError(
            f"{self.class_type}.{self.function_name}() returned {type(value).__name__}; it must return a "
            f"tuple with one value per RETURN_TYPES entry ({self.output_count}), e.g. `return (value,)`"
        )

    def result(self, returned: Any) -> NodeResult | ExecutionBlocker:
        """A call's return value as the scheduler's :class:`NodeResult` (or the blocker it returned)."""
        if type(returned) is ExecutionBlocker:
            return returned
        if isinstance(returned, dict):
            ui = returned.get("ui")
            if ui is not None and not isinstance(ui, dict):
                raise TypeError(
                    f"{self.class_type}.{self.function_name}() returned a 'ui' of type {type(ui).__name__}; "
                    'it must be a dict of lists, e.g. {"text": ["42"]}'
                )
            result = returned.get("result")
            outputs = self._outputs(result) if result is not None else ()
            return NodeResult(outputs, ui, returned.get("expand"))
        return NodeResult(self._outputs(returned))
