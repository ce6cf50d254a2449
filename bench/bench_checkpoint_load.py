"""Time to load an SD1.5-shaped checkpoint through graphflow vs. reading the file with safetensors.

Builds a random fp16 checkpoint with SD1.5's real key names and shapes (~2.1 GB) in a temp dir, then
measures, warm (libraries imported, file in the page cache), the median of several alternating runs of:

* ``load_file`` (lazy): ``safetensors.torch.load_file(path)``; tensors are mmap views, nothing is read yet;
* ``load_file`` (read): ``safetensors.torch.load_file(path, backend="pread")``; every byte is read;
* graphflow: ``load_checkpoint(path, dtype=float16)``: detection, config inference, reading, key
  conversion and meta-device model construction -> usable UNet, CLIP and VAE handles;
* graphflow with a cast (bf16, which ``DevicePolicy`` picks on CPUs with hardware bf16, and fp32).

The target is graphflow / load_file(read) <= 1.2. Run: ``python bench/bench_checkpoint_load.py [repeats]``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root, for tests.models

from graphflow.models.export import ldm_state_dict
from graphflow.models.load import load_checkpoint
from graphflow.models.state_dict import shapes_of
from tests.models.factories import CLIP_L, SD15_UNET, SD_VAE, meta_models, write_random_safetensors


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    del result
    return elapsed


def main(repeats: int = 3) -> None:
    import safetensors.torch

    shapes = shapes_of(ldm_state_dict(**meta_models(SD15_UNET, SD_VAE, [(CLIP_L, False)]), family="sd1"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sd15-random-fp16.safetensors"
        start = time.perf_counter()
        write_random_safetensors(path, shapes, torch.float16)
        size_gb = path.stat().st_size / 1e9
        print(
            f"wrote {path.name}: {size_gb:.2f} GB, {len(shapes)} tensors in {time.perf_counter() - start:.1f} s"
        )

        cases: dict[str, Callable[[], object]] = {
            "load_file (lazy mmap)": lambda: safetensors.torch.load_file(str(path)),
            "load_file (read all, pread)": lambda: safetensors.torch.load_file(str(path), backend="pread"),
            "graphflow load_checkpoint fp16": lambda: load_checkpoint(path, dtype=torch.float16),
            "graphflow load_checkpoint bf16 (cast)": lambda: load_checkpoint(path, dtype=torch.bfloat16),
            "graphflow load_checkpoint fp32 (cast)": lambda: load_checkpoint(path, dtype=torch.float32),
        }
        for fn in cases.values():  # warm-up: imports, page cache
            timed(fn)
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(repeats):
            for name, fn in cases.items():
                times[name].append(timed(fn))

    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"\nmedian of {repeats} warm runs (torch threads: {torch.get_num_threads()}):")
    for name, value in medians.items():
        runs = ", ".join(f"{t:.2f}" for t in times[name])
        print(f"  {name:40s} {value:6.2f} s   [{runs}]")
    baseline = medians["load_file (read all, pread)"]
    ratio = medians["graphflow load_checkpoint fp16"] / baseline
    print(f"\nratio graphflow fp16 / load_file(read all) = {ratio:.2f}  (target <= 1.2)")
    print(f"effective read rate: {size_gb / medians['graphflow load_checkpoint fp16']:.2f} GB/s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
