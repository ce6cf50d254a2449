"""Executor figures (issue: core runtime): in-process, trivial nodes, no models.

Prints, for the graphs the issue names:
- a chain of N trivial nodes: EmptyImage 8x8 -> N x ImageInvert -> PreviewAny (fresh run, target <= 50 ms at N=1000)
- a fan of N branches: EmptyImage -> N x (ImageInvert -> PreviewAny) (fresh run, target <= 50 ms at N=1000)
- the cost ratio of 10x the nodes (target <= 12x)
- a cached re-run of the 1000-node chain (target <= 5 ms)
- that a 10,000-node chain runs

Each figure is the median of several runs (validation + execution, as `graphflow run` does), with a fresh
executor (empty cache) per fresh run. Run: python bench/bench_executor.py [--cpu-time]
"""

from __future__ import annotations

import gc
import statistics
import sys
import time

from graphflow.bootstrap import create_runtime
from graphflow.scheduler import Executor


def chain(n: int) -> dict:
    prompt = {
        "0": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}}
    }
    for i in range(1, n + 1):
        prompt[str(i)] = {"class_type": "ImageInvert", "inputs": {"image": [str(i - 1), 0]}}
    prompt["out"] = {"class_type": "PreviewAny", "inputs": {"source": [str(n), 0]}}
    return prompt


def fan(n: int) -> dict:
    prompt = {
        "0": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}}
    }
    for i in range(1, n + 1):
        prompt[f"i{i}"] = {"class_type": "ImageInvert", "inputs": {"image": ["0", 0]}}
        prompt[f"p{i}"] = {"class_type": "PreviewAny", "inputs": {"source": [f"i{i}", 0]}}
    return prompt


CLOCK = time.perf_counter


def run_once(executor: Executor, prompt: dict) -> float:
    start = CLOCK()
    graph, report = executor.validate(prompt)
    assert graph is not None, report.text_lines()
    outcome = executor.execute(graph)
    assert outcome.ok
    return CLOCK() - start


def fresh(runtime, prompt: dict, repeats: int = 7) -> float:
    return statistics.median(run_once(Executor(runtime), prompt) for _ in range(repeats))


def cached(runtime, prompt: dict, repeats: int = 15) -> float:
    executor = Executor(runtime)
    run_once(executor, prompt)
    return statistics.median(run_once(executor, prompt) for _ in range(repeats))


def main() -> None:
    global CLOCK
    if "--cpu-time" in sys.argv:
        # On a busy machine, this process's CPU time is what the wall time would be on a quiet one.
        CLOCK = time.process_time
    runtime = create_runtime(load_packs=False)
    gc.freeze()  # as the CLI and server do after start-up
    run_once(Executor(runtime), chain(50))  # warm up imports and first-call paths
    rows = []
    chain_1k, chain_10k = fresh(runtime, chain(1000)), fresh(runtime, chain(10_000), repeats=3)
    fan_1k, fan_10k = fresh(runtime, fan(1000)), fresh(runtime, fan(10_000), repeats=3)
    rows.append(("chain 1000, fresh", chain_1k * 1e3, "ms", "<= 50"))
    rows.append(("fan 1000 branches, fresh", fan_1k * 1e3, "ms", "<= 50"))
    rows.append(("chain 10000, fresh", chain_10k * 1e3, "ms", "runs"))
    rows.append(("fan 10000 branches, fresh", fan_10k * 1e3, "ms", ""))
    rows.append(("chain: 10x nodes costs", chain_10k / chain_1k, "x", "<= 12"))
    rows.append(("fan: 10x nodes costs", fan_10k / fan_1k, "x", "<= 12"))
    rows.append(("chain 1000, cached re-run", cached(runtime, chain(1000)) * 1e3, "ms", "<= 5"))
    rows.append(("chain 10000, cached re-run", cached(runtime, chain(10_000), repeats=3) * 1e3, "ms", ""))
    clock = "process CPU time" if CLOCK is time.process_time else "wall time"
    print(f"{'figure':<30} {'value':>10}  unit  target   ({clock}, median)")
    for name, value, unit, target in rows:
        print(f"{name:<30} {value:>10.2f}  {unit:<4}  {target}")


if __name__ == "__main__":
    main()
