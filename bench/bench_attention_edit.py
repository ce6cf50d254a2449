"""What an attention edit costs: seconds per sampling step on the demo checkpoint, source and target together.

Runs the same 2-row sampling (source + target prompt, CFG, 128 px = 16x16 latent) five ways: no processors
installed (stock SDPA everywhere), recording cross-attention only (what AttentionHeatMap needs), a
Prompt-to-Prompt word swap, a word swap with LocalBlend, and MasaCtrl. Prints the median seconds per step and
the ratio to the plain run, then checks that the UNet has its original processors back.

Run: python bench/bench_attention_edit.py [--steps 20] [--runs 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace
from pathlib import Path

import torch

from graphflow.attention.controller import edit_session
from graphflow.attention.edits import LocalBlend, MasaCtrl, PromptEdit
from graphflow.conditioning.encode import encode_prompt
from graphflow.models.load import load_checkpoint
from graphflow.sampling.loop import sample

DEMO = (
    Path(__file__).resolve().parents[1] / "graphflow" / "data" / "checkpoints" / "graphflow-demo.safetensors"
)
SOURCE = "a large red circle in the center on a white background"
TARGET = "a large green circle in the center on a white background"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3, help="timed runs per variant (the median is shown)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    # fp32: the policy graphflow's loader node uses for a model this small on CPU
    stack = load_checkpoint(DEMO, dtype=torch.float32)
    model, clip = stack[0], stack[1]

    def conditioning(text: str) -> list:
        embedding, pooled = encode_prompt(clip, text)
        return [[embedding, {"pooled_output": pooled}]]

    positive = [conditioning(SOURCE), conditioning(TARGET)]
    negative = [conditioning("")]
    swap = PromptEdit("replace", SOURCE, TARGET, (0.0, 0.8), (0.0, 0.4))
    variants = {
        "plain (no processors)": (None, False),
        "record cross-attention": (None, True),
        "P2P replace": (swap, False),
        "P2P replace + LocalBlend": (
            replace(swap, local_blend=LocalBlend(("circle",), ("circle",), 0.3, 0.0)),
            False,
        ),
        "MasaCtrl": (MasaCtrl(start_step=4), False),
    }
    original = {name: type(p).__name__ for name, p in model.unet.attn_processors.items()}

    def run(edit, record: bool) -> float:
        latent = {"samples": torch.zeros(2, 4, 16, 16)}
        started = time.perf_counter()
        with edit_session(model.unet, edit, [SOURCE, TARGET], (16, 16), record=record) as session:
            sample(
                model,
                latent,
                positive,
                negative,
                sampler_name="euler",
                scheduler_name="normal",
                steps=args.steps,
                cfg=4.0,
                seed=0,
                hooks=session.hooks,
            )
        return (time.perf_counter() - started) / args.steps

    run(None, False)  # warm-up
    medians = {}
    for label, (edit, record) in variants.items():
        medians[label] = statistics.median(run(edit, record) for _ in range(args.runs))
    base = medians["plain (no processors)"]
    print(f"demo checkpoint, 2 rows x CFG, 16x16 latent, {args.steps} euler steps, {args.threads} threads")
    print(f"{'variant':<28} {'s/step':>8} {'vs plain':>9}")
    for label, seconds in medians.items():
        print(f"{label:<28} {seconds:8.4f} {seconds / base:8.2f}x")
    restored = {name: type(p).__name__ for name, p in model.unet.attn_processors.items()} == original
    print(f"UNet processors restored after every run: {restored}")


if __name__ == "__main__":
    main()
