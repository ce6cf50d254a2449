"""Train graphflow's demo model from scratch on CPU and export it as one SD1-layout checkpoint.

Stages, in order (each writes into --work-dir, so a later stage can be rerun alone with --from-stage):

  data     write a sample grid and the train/held-out split summary
  vae      train the AutoencoderKL (crops, then whole 128 px images, with a linear colour probe on the
           latent), then fold SD1's latent scale into it
  check    classify VAE reconstructions; stop unless colour is kept in >= 97% of them; print how far
           apart the shape colours sit in latent space
  latents  encode a pool of training images once
  unet     train UNet2DConditionModel + CLIPTextModel jointly (EMA, min-SNR, cosine lr, optional token grounding)
  export   write graphflow/data/checkpoints/graphflow-demo.safetensors (fp16, LDM key layout)

Fixed seeds repeat a run exactly within one environment; on another machine CPU float results differ, so the
weights do too (docs/demo-model.md). Check a retrained checkpoint with evaluate.py before committing it.
--quick runs every stage for a few steps (under a minute) to smoke-test the pipeline; its checkpoint goes into
the work dir.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import torch
from unet_stage import UnetSchedule, encode_pool, train_unet
from vae_stage import (
    VaeSchedule,
    check_reconstructions,
    colour_separation,
    normalise_latent_space,
    train_vae,
)

from graphflow.demo import architecture
from graphflow.demo.shapes import held_out_scenes, training_examples, training_scenes

STAGES = ("data", "vae", "check", "latents", "unet", "export")
REPO = Path(__file__).resolve().parents[2]
DEFAULT_CHECKPOINT = REPO / "graphflow" / "data" / "checkpoints" / "graphflow-demo.safetensors"
MIN_VAE_COLOUR = 97.0
POOL_SIZE = 8192
POOL_SEED = 11
QUICK_VAE = VaeSchedule(crop_steps=3, crop_batch=4, full_steps=2, full_batch=2, warmup_steps=1)
QUICK_UNET = UnetSchedule(steps=4, batch=8, warmup_steps=1)
QUICK_POOL_SIZE = 64


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=Path("/work/scratch/demo/run"),
        help="scratch folder for intermediate models and latents (kept out of the repo)",
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help=f"output file (default: {DEFAULT_CHECKPOINT.relative_to(REPO)}; "
        "with --quick: <work-dir>/graphflow-demo.safetensors)",
    )
    parser.add_argument(
        "--from-stage",
        choices=STAGES,
        default="data",
        help="start here, reusing earlier stages' outputs from --work-dir",
    )
    parser.add_argument("--to-stage", choices=STAGES, default="export", help="stop after this stage")
    parser.add_argument("--quick", action="store_true", help="a few steps per stage, for smoke tests")
    parser.add_argument("--vae-steps", type=int, default=None, help="override crop-phase VAE steps")
    parser.add_argument("--unet-steps", type=int, default=None, help="override UNet steps")
    parser.add_argument(
        "--grounding-weight",
        type=float,
        default=None,
        help="weight of the token grounding loss in the UNet stage (default 0: off; see grounding.py)",
    )
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    return parser.parse_args(argv)


class StageClock:
    """Wall and process-CPU seconds per stage, saved to ``timings.json`` in the work dir."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.times: dict[str, dict[str, float]] = json.loads(path.read_text()) if path.exists() else {}

    def run(self, name: str, action: Callable[[], object]) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        self.times[name] = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}
        self.path.write_text(json.dumps(self.times, indent=2))

    def summary(self) -> str:
        rows = ["| stage | wall s | CPU s | CPU s / 2 |", "|---|---:|---:|---:|"]
        total_wall = total_cpu = 0.0
        for name in STAGES:
            if name in self.times:
                wall, cpu = self.times[name]["wall_s"], self.times[name]["cpu_s"]
                total_wall, total_cpu = total_wall + wall, total_cpu + cpu
                rows.append(f"| {name} | {wall:.0f} | {cpu:.0f} | {cpu / 2:.0f} |")
        rows.append(f"| **total** | {total_wall:.0f} | {total_cpu:.0f} | {total_cpu / 2:.0f} |")
        return "\n".join(rows)


def stage_data(work: Path) -> None:
    from PIL import Image

    examples = list(training_examples(32, seed=0))
    grid = Image.new("RGB", (8 * 128, 4 * 128))
    for index, example in enumerate(examples):
        grid.paste(example.image(), ((index % 8) * 128, (index // 8) * 128))
    grid.save(work / "data_samples.png")
    summary = {
        "training_scenes": len(training_scenes()),
        "held_out_scenes": [scene.caption() for scene in held_out_scenes()],
        "sample_captions": [example.caption for example in examples],
    }
    (work / "data.json").write_text(json.dumps(summary, indent=2))


def stage_vae(work: Path, schedule: VaeSchedule) -> None:
    torch.manual_seed(schedule.seed)
    vae = architecture.build_vae()
    losses = train_vae(vae, schedule)
    stats = normalise_latent_space(vae)
    vae.save_pretrained(work / "vae")
    (work / "vae_log.json").write_text(
        json.dumps({"schedule": asdict(schedule), "latent_stats": stats, "loss": losses}, indent=1)
    )


def stage_check(work: Path, quick: bool) -> None:
    from diffusers import AutoencoderKL

    vae = AutoencoderKL.from_pretrained(work / "vae", low_cpu_mem_usage=False).eval()
    scores = check_reconstructions(vae, count=20 if quick else 200)
    separation = colour_separation(vae, count=120 if quick else 1200)
    closest = min(separation, key=separation.get)
    (work / "vae_check.json").write_text(json.dumps({**scores, "colour_separation": separation}, indent=2))
    print("VAE reconstructions: " + ", ".join(f"{k} {v:.1f}" for k, v in scores.items()))
    print(f"closest colours in latent space: {closest} (Fisher ratio {separation[closest]:.2f})")
    if scores["colour"] < MIN_VAE_COLOUR and not quick:
        raise SystemExit(
            f"VAE keeps colour in only {scores['colour']:.1f}% of reconstructions "
            f"(need {MIN_VAE_COLOUR}%): train it longer (--vae-steps) before the UNet."
        )


def stage_latents(work: Path, quick: bool) -> None:
    from diffusers import AutoencoderKL

    vae = AutoencoderKL.from_pretrained(work / "vae", low_cpu_mem_usage=False).eval()
    pool = encode_pool(vae, QUICK_POOL_SIZE if quick else POOL_SIZE, seed=POOL_SEED)
    raw_std = float(pool.mean.std())
    print(
        f"latent pool: {len(pool.scenes)} images, raw latent std {raw_std:.3f} "
        f"(SD1 expects ~{1 / architecture.LATENT_SCALE:.2f})"
    )
    torch.save(
        {"mean": pool.mean, "std": pool.std, "scenes": pool.scenes, "cover": pool.cover}, work / "latents.pt"
    )


def stage_unet(work: Path, schedule: UnetSchedule) -> None:
    from unet_stage import LatentPool

    from graphflow.models.tokenizer import clip_tokenizer

    saved = torch.load(work / "latents.pt", weights_only=False)
    pool = LatentPool(saved["mean"], saved["std"], saved["scenes"], saved["cover"])
    torch.manual_seed(schedule.seed)
    unet = architecture.build_unet()
    text_encoder = architecture.build_text_encoder()
    unet_ema, text_encoder_ema, losses = train_unet(unet, text_encoder, clip_tokenizer(), pool, schedule)
    unet_ema.save_pretrained(work / "unet")
    text_encoder_ema.save_pretrained(work / "text_encoder")
    (work / "unet_log.json").write_text(json.dumps({"schedule": asdict(schedule), "loss": losses}, indent=1))


def stage_export(work: Path, checkpoint: Path) -> None:
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel

    from graphflow.models.export import export_ldm_checkpoint

    unet = UNet2DConditionModel.from_pretrained(work / "unet", low_cpu_mem_usage=False)
    vae = AutoencoderKL.from_pretrained(work / "vae", low_cpu_mem_usage=False)
    text_encoder = CLIPTextModel.from_pretrained(work / "text_encoder", low_cpu_mem_usage=False)
    export_ldm_checkpoint(
        checkpoint,
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        family="sd1",
        # No graphflow.* loader hints: the file must load by shape inference like any SD1 file.
        describe=False,
        metadata={"graphflow.demo_config": json.dumps(architecture.demo_config())},
        dtype=torch.float16,
    )
    counts = {
        name: sum(p.numel() for p in model.parameters())
        for name, model in (("unet", unet), ("vae", vae), ("text_encoder", text_encoder))
    }
    print(f"wrote {checkpoint} ({checkpoint.stat().st_size / 2**20:.2f} MiB); parameters: {counts}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    work = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    checkpoint = args.checkpoint or (
        work / "graphflow-demo.safetensors" if args.quick else DEFAULT_CHECKPOINT
    )
    vae_schedule = QUICK_VAE if args.quick else VaeSchedule()
    unet_schedule = QUICK_UNET if args.quick else UnetSchedule()
    if args.vae_steps is not None:
        vae_schedule = replace(vae_schedule, crop_steps=args.vae_steps)
    if args.unet_steps is not None:
        unet_schedule = replace(unet_schedule, steps=args.unet_steps)
    if args.grounding_weight is not None:
        unet_schedule = replace(unet_schedule, grounding_weight=args.grounding_weight)
    clock = StageClock(work / "timings.json")
    actions = {
        "data": lambda: stage_data(work),
        "vae": lambda: stage_vae(work, vae_schedule),
        "check": lambda: stage_check(work, args.quick),
        "latents": lambda: stage_latents(work, args.quick),
        "unet": lambda: stage_unet(work, unet_schedule),
        "export": lambda: stage_export(work, checkpoint),
    }
    first, last = STAGES.index(args.from_stage), STAGES.index(args.to_stage)
    for name in STAGES[first : last + 1]:
        print(f"== stage {name}", flush=True)
        clock.run(name, actions[name])
    print(clock.summary())
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
