"""Sampling figures (issue: SD nodes on diffusers).

1. txt2img through graphflow's node graph (CLIPTextEncode x2 -> EmptyLatentImage -> KSampler -> VAEDecode, run
   by the Executor with an empty cache each time) against the same ``StableDiffusionPipeline`` call (same
   UNet/VAE/CLIP, scheduler, steps, guidance), on a small randomly initialised SD-shaped model. Prints both
   medians and the ratio (target <= 1.03x).
2. Seconds per sampling step of an SD1.5-shaped UNet (the real SD1.5 UNet config below, random weights built in
   memory, never downloaded) at a 64x64 latent (512 px), batch 2 (CFG), in fp32 and bf16.

Run: python bench/bench_sampling.py [--skip-sd15] [--runs N] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root, for tests.models

from graphflow.node import Input, Node, Output, Outputs, node
from graphflow.sockets import Clip, Model
from graphflow.sockets import Vae as VaeSocket
from tests.models.factories import SD15_UNET

# A small SD-shaped stack: same block layout and factor-8 VAE, narrower.
SMALL_UNET = {
    **SD15_UNET,
    "block_out_channels": [64, 128, 256, 256],
    "cross_attention_dim": 128,
    "attention_head_dim": 8,
}
SMALL_VAE = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "block_out_channels": [32, 64, 64, 64],
    "layers_per_block": 1,
    "latent_channels": 4,
    "norm_num_groups": 32,
}
SIZE, STEPS, CFG, SEED = 128, 20, 7.5, 1234


def small_stack() -> tuple[Any, Any, Any]:
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(**SMALL_UNET).eval().requires_grad_(False)
    vae = AutoencoderKL(**SMALL_VAE).eval().requires_grad_(False)
    text = (
        CLIPTextModel(
            CLIPTextConfig(hidden_size=128, intermediate_size=512, num_hidden_layers=4, num_attention_heads=4)
        )
        .eval()
        .requires_grad_(False)
    )
    return unet, vae, text


class BenchStack(Outputs):
    model: Model = Output(name="MODEL")
    clip: Clip = Output(name="CLIP")
    vae: VaeSocket = Output(name="VAE")


BENCH_HANDLES: dict[str, tuple[Any, Any, Any]] = {}


@node("BenchCheckpoint", category="bench")
class BenchCheckpoint(Node):
    """The in-memory bench models."""

    name: str = Input("small")

    def run(self, ctx: Any) -> BenchStack:
        return BenchStack(*BENCH_HANDLES[self.name])


def graphflow_runner(unet: Any, vae: Any, text: Any):
    import tempfile

    from graphflow.bootstrap import builtin_registry
    from graphflow.context import Runtime
    from graphflow.models.handles import DiffusionModel, NoiseSchedule, TextEncoder, TextEncoderPart, Vae
    from graphflow.models.tokenizer import END_TOKEN_ID, clip_tokenizer
    from graphflow.paths import Paths
    from graphflow.registry import PackStatus
    from graphflow.scheduler import Executor

    BENCH_HANDLES["small"] = (
        DiffusionModel(unet, "sd1", NoiseSchedule(), 0.18215, "bench"),
        TextEncoder((TextEncoderPart("clip_l", clip_tokenizer(), text, END_TOKEN_ID),), "sd1", "bench"),
        Vae(vae, 8, 4, "bench"),
    )

    registry = builtin_registry()
    registry.register_all([BenchCheckpoint], pack=registry.add_pack(PackStatus("bench", "bench", "native")))
    runtime = Runtime(registry, Paths.at(tempfile.mkdtemp()).ensure(), preview_method="none")
    prompt = {
        "1": {"class_type": "BenchCheckpoint", "inputs": {"name": "small"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a photo of a cat", "clip": ["1", 1]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["1", 1]}},
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": SIZE, "height": SIZE, "batch_size": 1}},
        "5": {
            "class_type": "KSampler",
            "inputs": {
                "model": ["1", 0],
                "seed": SEED,
                "steps": STEPS,
                "cfg": CFG,
                "sampler_name": "euler",
                "scheduler": "normal",
                "positive": ["2", 0],
                "negative": ["3", 0],
                "latent_image": ["4", 0],
                "denoise": 1.0,
            },
        },
        "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
        "7": {"class_type": "PreviewAny", "inputs": {"source": ["6", 0]}},
    }

    def run() -> float:
        executor = Executor(runtime)  # empty cache: everything runs
        start = time.perf_counter()
        graph, report = executor.validate(prompt)
        assert graph is not None, report
        outcome = executor.execute(graph, prompt_id="bench")
        assert outcome.ok, outcome.error
        return time.perf_counter() - start

    return run


def pipeline_runner(unet: Any, vae: Any, text: Any):
    from diffusers import StableDiffusionPipeline

    from graphflow.models.handles import NoiseSchedule
    from graphflow.models.tokenizer import clip_tokenizer
    from graphflow.sampling.schedulers import build_scheduler

    scheduler = build_scheduler("euler", "normal", NoiseSchedule(), STEPS).scheduler
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text,
        tokenizer=clip_tokenizer(),
        unet=unet,
        scheduler=type(scheduler).from_config(scheduler.config),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)

    def run() -> float:
        start = time.perf_counter()
        generator = torch.Generator().manual_seed(SEED)
        pipe(
            "a photo of a cat",
            height=SIZE,
            width=SIZE,
            num_inference_steps=STEPS,
            guidance_scale=CFG,
            generator=generator,
            output_type="pt",
        )
        return time.perf_counter() - start

    return run


def compare(runs: int) -> None:
    unet, vae, text = small_stack()
    ours, theirs = graphflow_runner(unet, vae, text), pipeline_runner(unet, vae, text)
    ours(), theirs()  # warm up
    ours_times, theirs_times = [], []
    for _ in range(runs):  # interleaved so that load changes hit both alike
        ours_times.append(ours())
        theirs_times.append(theirs())
    a, b = statistics.median(ours_times), statistics.median(theirs_times)
    print(
        f"txt2img {SIZE}px, {STEPS} steps, small SD-shaped model ({sum(p.numel() for p in unet.parameters()) / 1e6:.0f}M UNet params)"
    )
    print(
        f"  graphflow graph (Executor): {a:.3f} s   StableDiffusionPipeline: {b:.3f} s   ratio {a / b:.3f}x"
    )


def sd15_step_seconds(dtype: torch.dtype, steps: int = 2) -> float:
    from diffusers import UNet2DConditionModel

    from graphflow.models.handles import DiffusionModel, NoiseSchedule
    from graphflow.sampling.loop import sample

    torch.manual_seed(0)
    unet = UNet2DConditionModel(**SD15_UNET).eval().requires_grad_(False).to(dtype)
    model = DiffusionModel(unet, "sd1", NoiseSchedule(), 0.18215, "sd15-shaped")
    cond = [[[torch.randn(1, 77, 768), {}]]]
    uncond = [[[torch.randn(1, 77, 768), {}]]]
    latent = {"samples": torch.zeros(1, 4, 64, 64)}
    times: list[float] = []
    last = [time.perf_counter()]

    def on_step(report: Any) -> None:
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now

    options = {"sampler_name": "euler", "scheduler_name": "normal", "cfg": CFG, "seed": SEED}
    sample(model, latent, cond, uncond, steps=1, **options)  # warm up
    last[0] = time.perf_counter()
    sample(model, latent, cond, uncond, steps=steps, on_step=on_step, **options)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-sd15", action="store_true")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    compare(args.runs)
    if not args.skip_sd15:
        for dtype in (torch.float32, torch.bfloat16):
            seconds = sd15_step_seconds(dtype)
            print(
                f"SD1.5-shaped UNet, 64x64 latent, batch 2 (CFG), {str(dtype).replace('torch.', '')}: {seconds:.2f} s/step"
            )


if __name__ == "__main__":
    main()
