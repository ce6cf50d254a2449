"""Measure what the demo model draws: generate the 100 held-out captions and classify the pixels.

By default loads the committed checkpoint with graphflow's single-file loader (pure shape inference, exactly
like an SD1.5 file). Prints a Markdown table: overall accuracy per attribute, then per colour and per shape.
None of the 100 scenes (shape × colour × size × position × background) was ever rendered for training.

  python scripts/demo_model/evaluate.py [--checkpoint FILE | --diffusers-dir DIR] [--guidance 3.5] ...
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sampling import SAMPLERS, generate, load_pipeline, make_pipeline

from graphflow.demo.classify import classify
from graphflow.demo.shapes import COLOURS, SHAPES, evaluation_examples

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CHECKPOINT = REPO / "graphflow" / "data" / "checkpoints" / "graphflow-demo.safetensors"
ATTRIBUTES = ("colour", "shape", "size", "position", "background")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help="single-file checkpoint")
    source.add_argument(
        "--diffusers-dir",
        type=Path,
        default=None,
        help="a train.py work dir holding unet/, vae/ and text_encoder/ (before export)",
    )
    parser.add_argument("--guidance", type=float, default=3.5, help="classifier-free guidance scale")
    parser.add_argument("--steps", type=int, default=25, help="sampling steps")
    parser.add_argument("--sampler", choices=SAMPLERS, default="ddim")
    parser.add_argument("--seed", type=int, default=0, help="noise seed of the first image (then +1 each)")
    parser.add_argument("--grid", type=Path, default=None, help="also save all images as one PNG grid here")
    parser.add_argument("--threads", type=int, default=2)
    return parser.parse_args(argv)


def _diffusers_pipeline(folder: Path, sampler: str) -> Any:
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel

    from graphflow.models.tokenizer import clip_tokenizer

    unet = UNet2DConditionModel.from_pretrained(folder / "unet", low_cpu_mem_usage=False)
    vae = AutoencoderKL.from_pretrained(folder / "vae", low_cpu_mem_usage=False)
    text_encoder = CLIPTextModel.from_pretrained(folder / "text_encoder", low_cpu_mem_usage=False)
    return make_pipeline(unet, vae, text_encoder, clip_tokenizer(), sampler)


def score(images: np.ndarray) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Overall percent correct per attribute, and colour/shape accuracy grouped by the caption's value."""
    examples = evaluation_examples()
    totals: dict[str, int] = defaultdict(int)
    groups: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for example, image in zip(examples, images, strict=True):
        matches = classify(image).matches(example.scene)
        for name, ok in matches.items():
            totals[name] += ok
        for key in (example.scene.colour, example.scene.shape):
            groups[key]["colour"][0] += matches["colour"]
            groups[key]["shape"][0] += matches["shape"]
            groups[key]["colour"][1] += 1
            groups[key]["shape"][1] += 1
    overall = {name: 100.0 * totals[name] / len(examples) for name in ATTRIBUTES}
    per_value = {
        key: {name: 100.0 * hits / count for name, (hits, count) in value.items()}
        for key, value in groups.items()
    }
    return overall, per_value


def markdown(overall: dict[str, float], per_value: dict[str, dict[str, float]], header: str) -> str:
    lines = [header, "", "| attribute | accuracy |", "|---|---:|"]
    lines += [f"| {name} | {overall[name]:.0f}% |" for name in ATTRIBUTES]
    lines += ["", "| caption word | n | colour right | shape right |", "|---|---:|---:|---:|"]
    counts: dict[str, int] = defaultdict(int)
    for example in evaluation_examples():
        counts[example.scene.colour] += 1
        counts[example.scene.shape] += 1
    for key in (*COLOURS, *SHAPES):
        if key in per_value:
            row = per_value[key]
            lines.append(f"| {key} | {counts[key]} | {row['colour']:.0f}% | {row['shape']:.0f}% |")
    return "\n".join(lines)


def save_grid(images: np.ndarray, path: Path, columns: int = 10) -> None:
    from PIL import Image

    rows = -(-len(images) // columns)
    size = images.shape[1]
    grid = Image.new("RGB", (columns * size, rows * size))
    for index, image in enumerate(images):
        grid.paste(Image.fromarray(image), ((index % columns) * size, (index // columns) * size))
    grid.save(path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.diffusers_dir is not None:
        pipeline, source = _diffusers_pipeline(args.diffusers_dir, args.sampler), str(args.diffusers_dir)
    else:
        pipeline, source = load_pipeline(args.checkpoint, args.sampler), str(args.checkpoint)
    captions = [example.caption for example in evaluation_examples()]
    start = time.perf_counter()
    images = generate(pipeline, captions, seed=args.seed, guidance=args.guidance, steps=args.steps)
    seconds = time.perf_counter() - start
    overall, per_value = score(images)
    header = (
        f"Held-out evaluation of `{Path(source).name}`: {len(captions)} captions, {args.sampler} "
        f"{args.steps} steps, guidance {args.guidance}, seeds {args.seed}..{args.seed + len(captions) - 1} "
        f"({seconds:.0f} s to sample)"
    )
    print(markdown(overall, per_value, header))
    if args.grid is not None:
        save_grid(images, args.grid)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
