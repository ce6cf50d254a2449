"""Classic-pack figures: what running a ComfyUI-style node costs compared with a native one.

Prints (median of several runs, in-process, trivial nodes, no models):
- time to load a folder of classic packs (import + compile);
- a fresh run of a chain of N classic "add one" nodes vs N native PrimitiveInt-fed adders, per node;
- validation alone of the classic chain (INPUT_TYPES is asked again for combo inputs);
- a cached re-run of the classic chain.

Run: python bench/bench_classic_nodes.py [N]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from graphflow.bootstrap import create_runtime
from graphflow.scheduler import Executor

PACK = textwrap.dedent("""
    class AddOne:
        CATEGORY = "bench"
        RETURN_TYPES = ("INT",)
        FUNCTION = "add"

        @classmethod
        def INPUT_TYPES(cls):
            return {"required": {"value": ("INT", {"default": 0}), "mode": (["plus", "minus"],)}}

        def add(self, value, mode):
            return (value + 1 if mode == "plus" else value - 1,)

    NODE_CLASS_MAPPINGS = {"BenchAddOne": AddOne}
""")


def classic_chain(n: int) -> dict:
    prompt = {"0": {"class_type": "PrimitiveInt", "inputs": {"value": 0}}}
    for i in range(1, n + 1):
        prompt[str(i)] = {"class_type": "BenchAddOne", "inputs": {"value": [str(i - 1), 0], "mode": "plus"}}
    prompt["out"] = {"class_type": "PreviewAny", "inputs": {"source": [str(n), 0]}}
    return prompt


def native_chain(n: int) -> dict:
    prompt = {
        "0": {"class_type": "EmptyImage", "inputs": {"width": 1, "height": 1, "batch_size": 1, "color": 0}}
    }
    for i in range(1, n + 1):
        prompt[str(i)] = {"class_type": "ImageInvert", "inputs": {"image": [str(i - 1), 0]}}
    prompt["out"] = {"class_type": "PreviewAny", "inputs": {"source": [str(n), 0]}}
    return prompt


def timed(function, repeats: int = 5) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        packs = Path(tmp) / "packs"
        packs.mkdir()
        for index in range(20):
            (packs / f"pack_{index:02}.py").write_text(PACK.replace("BenchAddOne", f"BenchAddOne{index}"))
        (packs / "main_pack.py").write_text(PACK)
        load = timed(lambda: create_runtime(Path(tmp) / "base", custom_node_dirs=[packs]), repeats=3)
        print(f"load 21 classic single-file packs: {load * 1000:.1f} ms (after the first import)")
        runtime = create_runtime(Path(tmp) / "base", custom_node_dirs=[packs])

        def fresh(prompt):
            executor = Executor(runtime)
            graph, report = executor.validate(prompt)
            assert graph is not None, report.text_lines()
            assert executor.execute(graph).ok

        classic, native = classic_chain(n), native_chain(n)
        t_classic = timed(lambda: fresh(classic))
        t_native = timed(lambda: fresh(native))
        print(
            f"fresh run, chain of {n} classic nodes: {t_classic * 1000:.1f} ms ({t_classic / n * 1e6:.1f} us/node)"
        )
        print(
            f"fresh run, chain of {n} native nodes:  {t_native * 1000:.1f} ms ({t_native / n * 1e6:.1f} us/node)"
        )
        executor = Executor(runtime)
        t_validate = timed(lambda: executor.validate(classic))
        print(f"validation only, classic chain: {t_validate * 1000:.1f} ms")
        graph, _ = executor.validate(classic)
        executor.execute(graph)
        t_cached = timed(lambda: executor.execute(executor.validate(classic)[0]))
        print(f"cached re-run, classic chain: {t_cached * 1000:.1f} ms")


if __name__ == "__main__":
    main()
