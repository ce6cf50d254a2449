"""The executor: runs the output nodes of a validated graph and their ancestors, reusing cached results.

One run, in order:

1. **Keys.** Every node an output needs gets its content-addressed key, in dependency order (linear).
2. **Plan.** Nodes whose key is cached are served from cache; the rest that outputs reach without passing
   through a cached node are scheduled in a ready queue (prepare / get_ready / done, as in graphlib).
3. **Run.** Ready nodes run one at a time on this thread; async nodes run as tasks, overlapping with other
   ready nodes. Lazy inputs are scheduled only when a node asks for them; a node that returns a graph
   (expansion) waits for the new nodes and then resolves its outputs from them.
4. **Cache.** Every finished node's result is stored at once, so a later failure or cancellation keeps
   everything computed so far.

Nothing recurses over the graph, so depth is limited only by memory.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from graphflow.cache import CacheEntry, ResultCache, value_nbytes
from graphflow.calls import call_arguments, merge_results
from graphflow.context import CancelToken, Interrupted, NodeContext, Runtime
from graphflow.errors import ValidationReport
from graphflow.events import (
    Event,
    ExecutionCached,
    ExecutionError,
    ExecutionInterrupted,
    ExecutionStart,
    ExecutionSuccess,
    NodeFinished,
    NodeStarted,
    Progress,
)
from graphflow.expansion import Expansion, expand
from graphflow.failures import failure_event
from graphflow.gc_pause import gc_paused
from graphflow.graph import Graph, GraphNode, ValidationMemo, validate_prompt
from graphflow.keys import KeyMemo, compute_keys
from graphflow.outcome import RunOutcome
from graphflow.reasons import KeyParts, ReasonBook
from graphflow.values import ExecutionBlocker, NodeResult


class NodeFailed(Exception):
    def __init__(self, node_id: str, error: BaseException) -> None:
        super().__init__(str(error))
        self.node_id = node_id
        self.error = error


class Executor:
    """Validates and runs prompts against one runtime, with a result cache shared across runs."""

    def __init__(self, runtime: Runtime, cache: ResultCache | None = None) -> None:
        self.runtime = runtime
        self.cache = cache if cache is not None else ResultCache()
        self.memo = ValidationMemo()
        self.reasons = ReasonBook()
        self.key_memo = KeyMemo()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._counter = 0

    def validate(
        self, prompt: Any, partial_targets: list[str] | None = None
    ) -> tuple[Graph | None, ValidationReport]:
        with gc_paused():
            return validate_prompt(
                prompt, self.runtime.registry, self.runtime, partial_targets=partial_targets, memo=self.memo
            )

    def execute(self, graph: Graph, **kwargs: Any) -> RunOutcome:
        """Run a validated graph on this thread (see :meth:`execute_async` for the arguments)."""
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(self.execute_async(graph, **kwargs))

    async def execute_async(
        self,
        graph: Graph,
        *,
        prompt_id: str | None = None,
        extra_data: dict[str, Any] | None = None,
        on_event: Callable[[Event], None] | None = None,
        cancel: CancelToken | None = None,
        keep_values: bool = False,
    ) -> RunOutcome:
        if prompt_id is None:
            self._counter += 1
            prompt_id = f"run-{self._counter}"
        run = _Run(self, graph, prompt_id, extra_data or {}, on_event or _ignore, cancel or CancelToken())
        return await run.go(keep_values)


def _ignore(event: Event) -> None:
    pass


class _Run:
    def __init__(
        self, executor: Executor, graph: Graph, prompt_id: str, extra_data: dict, emit, cancel
    ) -> None:
        self.ex = executor
        self.runtime = executor.runtime
        self.cache = executor.cache
        self.graph = graph
        self.nodes = graph.nodes
        self.prompt_id = prompt_id
        self.extra_data = extra_data
        self.emit = emit
        self.cancel = cancel
        self.keys: dict[str, bytes] = {}
        self.parts: dict[str, KeyParts] = {}
        self.values: dict[str, list[list[Any]]] = {}
        self.pending: dict[str, int] = {}
        self.consumers: dict[str, list[str]] = {}
        self.scheduled: set[str] = set()
        self.requested: dict[str, set[str]] = {}
        self.expansions: dict[str, Expansion] = {}
        self.ready: deque[str] = deque()
        self.inflight: dict[asyncio.Future, str] = {}
        self.outcome = RunOutcome(prompt_id, "success")
        self.current: str | None = None

    # -- keys and plan -------------------------------------------------------------------------------
    def compute_keys(self, order: list[str]) -> None:
        compute_keys(self.nodes, order, self.runtime, self.ex.key_memo, self.keys, self.parts)

    def needed(self, roots: list[str]) -> list[str]:
        """Roots and all their ancestors (lazy links included), in dependency order."""
        seen = set(roots)
        stack = list(roots)
        while stack:
            for src, _ in self.nodes[stack.pop()].links.values():
                if src not in seen:
                    seen.add(src)
                    stack.append(src)
        return [nid for nid in self.graph.order if nid in seen]

    def deps(self, nid: str) -> set[str]:
        node = self.nodes[nid]
        if not node.spec.has_lazy_inputs:
            return {src for src, _ in node.links.values()}
        asked = self.requested.get(nid, ())
        input_map = node.spec.input_map
        return {
            src
            for name, (src, _) in node.links.items()
            if not (name in input_map and input_map[name].lazy) or name in asked
        }

    def schedule(self, starts: list[str]) -> None:
        """Put ``starts`` and what they need (and is not available) on the ready queue, iteratively."""
        stack: list[tuple[str, bool]] = [(nid, False) for nid in reversed(starts)]
        while stack:
            nid, finalize = stack.pop()
            if finalize:
                self.stage(nid)
                continue
            if nid in self.values or nid in self.scheduled:
                continue
            self.scheduled.add(nid)
            stack.append((nid, True))
            stack.extend(
                (src, False) for src in self.deps(nid) if src not in self.values and src not in self.scheduled
            )

    def stage(self, nid: str, waits_for: set[str] | None = None) -> None:
        count = 0
        for src in self.deps(nid) if waits_for is None else waits_for:
            if src not in self.values:
                count += 1
                self.consumers.setdefault(src, []).append(nid)
        self.pending[nid] = count
        if count == 0:
            self.ready.append(nid)

    # -- the run -----------------------------------------------------------------------------------
    async def go(self, keep_values: bool) -> RunOutcome:
        started = time.perf_counter()
        outcome = self.outcome
        self.emit(ExecutionStart(self.prompt_id))
        roots = self.graph.outputs
        with gc_paused():
            order = self.needed(roots)
            self.compute_keys(order)
            for nid in order:
                entry = self.cache.get(self.keys[nid])
                if entry is not None:
                    self.values[nid] = entry.outputs
                    outcome.cached.append(nid)
                    outcome.reasons[nid] = ReasonBook.why_cached(nid, entry.node_id)
                    if entry.ui is not None and self.nodes[nid].spec.output_node:
                        outcome.outputs[nid] = entry.ui
        self.emit(
            ExecutionCached(
                self.prompt_id, list(outcome.cached), {n: outcome.reasons[n] for n in outcome.cached}
            )
        )
        for nid in roots:
            if nid in outcome.outputs:
                self.emit(
                    NodeFinished(
                        self.prompt_id, nid, nid, self.nodes[nid].spec.class_type, outcome.outputs[nid], True
                    )
                )
        self.schedule(roots)
        try:
            await self.loop()
        except Interrupted as stop:
            outcome.status = "interrupted"
            node = self.nodes.get(self.current) if self.current else None
            outcome.interrupted = ExecutionInterrupted(
                self.prompt_id,
                self.current,
                node.spec.class_type if node else None,
                list(outcome.executed),
                str(stop),
            )
            self.emit(outcome.interrupted)
        except NodeFailed as failure:
            outcome.status = "error"
            outcome.error = self.error_event(failure.node_id, failure.error)
            self.emit(outcome.error)
        finally:
            for task in self.inflight:
                task.cancel()
            for nid in order:
                if nid in self.parts:
                    self.ex.reasons.remember(nid, self.parts[nid])
        if outcome.status == "success":
            self.emit(ExecutionSuccess(self.prompt_id))
        outcome.seconds = time.perf_counter() - started
        if keep_values:
            outcome.values = self.values
        return outcome

    async def loop(self) -> None:
        ready, inflight = self.ready, self.inflight
        while ready or inflight:
            if not ready:
                done, _ = await asyncio.wait(list(inflight), return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    nid = inflight.pop(task)
                    self.current = nid
                    try:
                        results = task.result()
                    except Interrupted:
                        raise
                    except Exception as error:
                        raise NodeFailed(nid, error) from error
                    self.finish_call(nid, results)
                continue
            nid = ready.popleft()
            self.current = nid
            self.cancel.raise_if_cancelled()
            if nid in self.expansions:
                self.complete(nid, *self.expansions.pop(nid).resolve(self.values))
                continue
            self.start(nid)

    def start(self, nid: str) -> None:
        node = self.nodes[nid]
        spec = node.spec
        display = node.display_id or nid
        reason = (
            self.ex.reasons.why_run(nid, self.parts[nid])
            if nid in self.parts
            else "created by node expansion"
        )
        self.outcome.reasons[nid] = reason
        self.emit(
            NodeStarted(self.prompt_id, nid, display, spec.class_type, reason, node.parent, _real_id(node))
        )
        inputs: dict[str, list[Any]] = {name: [value] for name, value in node.constants.items()}
        asked = self.requested.get(nid, ())
        lazy_missing = []
        input_map = spec.input_map
        for name, (src, slot) in node.links.items():
            if name in input_map and input_map[name].lazy and name not in asked:
                lazy_missing.append(name)
                inputs[name] = [None]
            else:
                inputs[name] = self.values[src][slot]
        ctx = self.context(node)
        if lazy_missing and spec.runner.has_lazy_check and self.request_lazy(node, ctx, inputs, lazy_missing):
            return
        try:
            calls = call_arguments(spec, inputs)
            results: list[Any] = []
            for args in calls:
                results.append(
                    self.blocked(node, args)
                    if type(args) is ExecutionBlocker
                    else spec.runner.call(ctx, args)
                )
        except Interrupted:
            raise
        except Exception as error:
            raise NodeFailed(nid, error) from error
        if spec.runner.is_async:
            self.inflight[asyncio.ensure_future(_gather(results))] = nid
        else:
            self.finish_call(nid, results)

    def request_lazy(
        self, node: GraphNode, ctx: NodeContext, inputs: dict[str, list[Any]], missing: list[str]
    ) -> bool:
        if node.spec.input_is_list:  # the check sees whole lists, as the node itself will
            args: dict[str, Any] = inputs
        else:
            args = {name: items[0] if items else None for name, items in inputs.items()}
        try:
            wanted = node.spec.runner.check_lazy(ctx, args)
            if asyncio.iscoroutine(wanted):
                raise TypeError("async check_lazy_status is not supported for this node")
        except Interrupted:
            raise
        except Exception as error:
            raise NodeFailed(node.id, error) from error
        new = [name for name in (wanted or ()) if name in missing]
        if not new:
            return False
        self.requested.setdefault(node.id, set()).update(new)
        sources = [node.links[name][0] for name in new]
        self.schedule([src for src in sources if src not in self.values])
        self.stage(node.id, set(sources))
        return True

    def blocked(self, node: GraphNode, blocker: ExecutionBlocker) -> ExecutionBlocker:
        if blocker.message:
            error = self.error_event(node.id, None, blocked=blocker.message)
            self.emit(error)
            return ExecutionBlocker(None)
        return blocker

    def finish_call(self, nid: str, results: list[Any]) -> None:
        node = self.nodes[nid]
        expansions = [r.expand for r in results if isinstance(r, NodeResult) and r.expand]
        outputs, ui = merge_results(node.spec, results)
        if expansions:
            expansion = expand(self, node, expansions, outputs, ui)
            self.expansions[nid] = expansion
            self.schedule(expansion.new_roots)
            self.stage(nid, expansion.waits_for)
            return
        self.complete(nid, outputs, ui)

    def complete(self, nid: str, outputs: list[list[Any]], ui: dict | None) -> None:
        node = self.nodes[nid]
        self.values[nid] = outputs
        key = self.keys.get(nid)
        if key is not None:
            self.cache.put(key, CacheEntry(outputs, ui, value_nbytes(outputs), nid, node.spec.class_type))
        self.outcome.executed.append(nid)
        if ui is not None:
            self.outcome.outputs[nid] = ui
        self.emit(
            NodeFinished(
                self.prompt_id,
                nid,
                node.display_id or nid,
                node.spec.class_type,
                ui,
                False,
                node.parent,
                _real_id(node),
            )
        )
        for consumer in self.consumers.pop(nid, ()):
            self.pending[consumer] -= 1
            if self.pending[consumer] == 0:
                self.ready.append(consumer)

    # -- helpers ---------------------------------------------------------------------------------
    def context(self, node: GraphNode) -> NodeContext:
        return NodeContext(
            self.runtime,
            node.id,
            node.display_id or node.id,
            self.prompt_id,
            self.graph.prompt,
            self.extra_data,
            self.cancel,
            self.progress,
            self.nodes,
        )

    def progress(self, node_id: str, value: int, total: int, preview: Any) -> None:
        node = self.nodes.get(node_id)
        display = (node.display_id if node is not None else None) or node_id
        self.emit(Progress(self.prompt_id, node_id, display, value, total, preview))

    def error_event(
        self, nid: str, error: BaseException | None, blocked: str | None = None
    ) -> ExecutionError:
        return failure_event(self, nid, error, blocked)


async def _gather(results: list[Any]) -> list[Any]:
    return [await r if asyncio.iscoroutine(r) or isinstance(r, asyncio.Future) else r for r in results]


def _real_id(node: GraphNode) -> str:
    return node.id.split(".", 1)[0] if node.parent else node.id
