"""The demo model's figures from issue 4, on this machine: held-out quality, the main job's time, training time.

1. Held-out quality: runs scripts/demo_model/evaluate.py on the shipped checkpoint (100 captions never
   rendered for training; targets colour >= 90 %, shape >= 70 %) and prints its tables.
2. The main job: wall seconds of `graphflow run workflows/txt2img.json` in a fresh folder (a new process, so
   it includes Python start-up and loading the checkpoint).
3. Training: the whole training script takes about an hour, so this does not rerun it; with --work-dir it
   prints the per-stage timings a train.py run saved there (timings.json; budget 60 min).

Run: python bench/bench_demo_model.py [--work-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GRAPHFLOW = str(Path(sys.executable).parent / "graphflow")  # the console script installed beside this Python


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work-dir", type=Path, default=None, help="a train.py work dir with timings.json")
    args = parser.parse_args()

    subprocess.run([sys.executable, str(REPO / "scripts" / "demo_model" / "evaluate.py")], check=True)

    with tempfile.TemporaryDirectory() as base:
        start = time.perf_counter()
        subprocess.run(
            [GRAPHFLOW, "run", str(REPO / "workflows" / "txt2img.json"), "--base-directory", base],
            check=True,
            capture_output=True,
        )
        seconds = time.perf_counter() - start
        written = sorted((Path(base) / "output").glob("*.png"))
    print(
        f"\n`graphflow run workflows/txt2img.json`: {seconds:.1f} s wall, wrote {[p.name for p in written]}"
    )

    if args.work_dir is not None:
        times = json.loads((args.work_dir / "timings.json").read_text())
        total = sum(stage["wall_s"] for stage in times.values())
        for name, stage in times.items():
            print(f"train.py {name}: {stage['wall_s']:.0f} s wall, {stage['cpu_s']:.0f} s CPU")
        print(f"train.py total: {total:.0f} s wall ({total / 60:.0f} min; budget 60 min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
