"""KSampler and KSamplerAdvanced: denoise a latent with a model, a prompt pair and a diffusers scheduler."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from graphflow.node import Input, Node, Output, Outputs, node
from graphflow.outputs import LatentOutput
from graphflow.sampling.schedulers import SAMPLER_NAMES, SCHEDULER_NAMES
from graphflow.sockets import Conditioning, Latent, Model

if TYPE_CHECKING:
    from graphflow.context import NodeContext

MAX_SEED = 0xFFFFFFFFFFFFFFFF


class DenoisedLatent(Outputs):
    latent: Latent = Output(name="LATENT", tooltip="The denoised latent.")


def run_sampler(
    ctx: NodeContext, model: Any, latent: dict[str, Any], positive: Any, negative: Any, **options: Any
) -> dict:
    """Sample with progress (and a live preview when enabled) reported every step; returns the new LATENT."""
    return run_sampler_rows(ctx, model, latent, [positive], [negative], **options)


def run_sampler_rows(
    ctx: NodeContext, model: Any, latent: dict[str, Any], positives: list, negatives: list, **options: Any
) -> dict:
    """:func:`run_sampler` with one CONDITIONING per latent row (or one for all rows) on each side."""
    from graphflow.sampling.loop import StepReport, sample
    from graphflow.sampling.preview import latent_preview, previews_enabled

    if model is None:
        raise ValueError("the model input is empty: connect a MODEL (for example from Load Checkpoint)")
    want_preview = previews_enabled(ctx.runtime, ctx.extra_data)

    def on_step(report: StepReport) -> None:
        image = latent_preview(report.denoised) if report.denoised is not None else None
        ctx.progress(report.done, report.total, image)

    samples = sample(model, latent, positives, negatives, on_step=on_step, preview=want_preview, **options)
    return {**latent, "samples": samples}


@node(
    "KSampler",
    display_name="KSampler",
    category="sampling",
    python_module="nodes",
    description="Uses the provided model, positive and negative conditioning to denoise the latent image.",
)
class KSampler(Node):
    """Denoise a latent: txt2img from an empty latent, img2img with ``denoise`` < 1, inpainting with a noise
    mask. Noise comes from ``seed`` on the CPU, so a seed gives the same result on any device."""

    model: Model = Input(tooltip="The model used for denoising the input latent.")
    seed: int = Input(
        0,
        min=0,
        max=MAX_SEED,
        ui={"control_after_generate": True},
        tooltip="The random seed used for creating the noise.",
    )
    steps: int = Input(20, min=1, max=10000, tooltip="The number of steps used in the denoising process.")
    cfg: float = Input(
        8.0,
        min=0.0,
        max=100.0,
        step=0.1,
        ui={"round": 0.01},
        tooltip=(
            "The Classifier-Free Guidance scale balances creativity and adherence to the prompt. Higher values "
            "result in images more closely matching the prompt however too high values will negatively impact "
            "quality."
        ),
    )
    sampler_name: str = Input(
        options=SAMPLER_NAMES,
        tooltip="The algorithm used when sampling, this can affect the quality, speed, and style of the generated output.",
    )
    scheduler: str = Input(
        options=SCHEDULER_NAMES,
        tooltip="The scheduler controls how noise is gradually removed to form the image.",
    )
    positive: Conditioning = Input(
        tooltip="The conditioning describing the attributes you want to include in the image."
    )
    negative: Conditioning = Input(
        tooltip="The conditioning describing the attributes you want to exclude from the image."
    )
    latent_image: Latent = Input(tooltip="The latent image to denoise.")
    denoise: float = Input(
        1.0,
        min=0.0,
        max=1.0,
        step=0.01,
        tooltip=(
            "The amount of denoising applied, lower values will maintain the structure of the initial image "
            "allowing for image to image sampling."
        ),
    )

    def run(self, ctx: NodeContext) -> DenoisedLatent:
        from graphflow.sampling.loop import denoise_slice

        if self.denoise <= 0.0:
            return DenoisedLatent(dict(self.latent_image))
        total, start = denoise_slice(self.steps, self.denoise)
        latent = run_sampler(
            ctx,
            self.model,
            self.latent_image,
            self.positive,
            self.negative,
            sampler_name=self.sampler_name,
            scheduler_name=self.scheduler,
            steps=total,
            start_step=start,
            cfg=self.cfg,
            seed=self.seed,
        )
        return DenoisedLatent(latent)


@node(
    "KSamplerAdvanced",
    display_name="KSampler (Advanced)",
    category="sampling",
    python_module="nodes",
    description="",
)
class KSamplerAdvanced(Node):
    """KSampler with explicit control of the schedule slice: run steps ``start_at_step`` .. ``end_at_step`` of a
    ``steps``-step schedule, optionally without adding noise and returning the leftover noise (for chaining a
    base and a refiner model)."""

    model: Model = Input()
    add_noise: Literal["enable", "disable"] = Input()
    noise_seed: int = Input(0, min=0, max=MAX_SEED, ui={"control_after_generate": True})
    steps: int = Input(20, min=1, max=10000)
    cfg: float = Input(8.0, min=0.0, max=100.0, step=0.1, ui={"round": 0.01})
    sampler_name: str = Input(options=SAMPLER_NAMES)
    scheduler: str = Input(options=SCHEDULER_NAMES)
    positive: Conditioning = Input()
    negative: Conditioning = Input()
    latent_image: Latent = Input()
    start_at_step: int = Input(0, min=0, max=10000)
    end_at_step: int = Input(10000, min=0, max=10000)
    return_with_leftover_noise: Literal["disable", "enable"] = Input()

    def run(self, ctx: NodeContext) -> LatentOutput:
        latent = run_sampler(
            ctx,
            self.model,
            self.latent_image,
            self.positive,
            self.negative,
            sampler_name=self.sampler_name,
            scheduler_name=self.scheduler,
            steps=self.steps,
            start_step=self.start_at_step,
            end_step=self.end_at_step,
            cfg=self.cfg,
            seed=self.noise_seed,
            add_noise=self.add_noise == "enable",
            return_leftover_noise=self.return_with_leftover_noise == "enable",
        )
        return LatentOutput(latent)
