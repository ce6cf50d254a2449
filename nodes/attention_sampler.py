"""KSamplerAttentionEdit (source and target sampled together under an attention edit) and DDIMInversion."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphflow.node import Input, Node, Output, Outputs, node
from graphflow.outputs import LatentOutput
from graphflow.sampling.schedulers import SAMPLER_NAMES, SCHEDULER_NAMES
from graphflow.sockets import AttentionEdit, AttentionMaps, Conditioning, Latent, Model

if TYPE_CHECKING:
    from graphflow.context import NodeContext

MAX_SEED = 0xFFFFFFFFFFFFFFFF
REFERENCE_KEY = "attention_inversion"


class EditedLatents(Outputs):
    source: Latent = Output(name="SOURCE", tooltip="The source branch (what the source prompt alone gives).")
    target: Latent = Output(name="TARGET", tooltip="The edited branch.")
    maps: AttentionMaps = Output(
        name="ATTENTION_MAPS",
        tooltip="Cross-attention averaged over layers and steps (for AttentionHeatMap).",
    )


def _prompts(edit: Any, rows: int) -> list[str]:
    from graphflow.attention.edits import MasaCtrl, PromptEdit

    if isinstance(edit, PromptEdit):
        return [edit.source, edit.target][:rows]
    if isinstance(edit, MasaCtrl):
        return [edit.source_prompt, edit.target_prompt][:rows]
    return [""] * rows


@node("KSamplerAttentionEdit", display_name="KSampler (Attention Edit)", category="attention")
class KSamplerAttentionEdit(Node):
    """Sample a source and an edited target together from the same noise (shared at every step on
    ancestral/SDE samplers too), applying an attention edit (Prompt-to-Prompt or MasaCtrl) to the target.
    Without an edit, the two branches are plain generations of their prompts. Works with every sampler; the
    edit's processors are installed only while sampling and always removed afterwards.

    A LATENT from DDIMInversion makes the source branch follow the inverted image exactly (real-image
    editing); then use sampler ddim with scheduler ddim_uniform and the inversion's step count."""

    model: Model = Input(tooltip="The model used for denoising.")
    seed: int = Input(0, min=0, max=MAX_SEED, ui={"control_after_generate": True}, tooltip="The noise seed.")
    steps: int = Input(20, min=1, max=10000, tooltip="The number of steps.")
    cfg: float = Input(8.0, min=0.0, max=100.0, step=0.1, ui={"round": 0.01}, tooltip="Guidance scale.")
    sampler_name: str = Input(options=SAMPLER_NAMES, tooltip="The sampling algorithm.")
    scheduler: str = Input(options=SCHEDULER_NAMES, tooltip="The noise-level spacing.")
    source_positive: Conditioning = Input(tooltip="The source prompt's conditioning.")
    negative: Conditioning = Input(tooltip="The negative conditioning (shared by both branches).")
    latent_image: Latent = Input(
        tooltip="The starting latent (batch of 1), e.g. Empty Latent Image or DDIMInversion."
    )
    denoise: float = Input(1.0, min=0.0, max=1.0, step=0.01, tooltip="Amount of denoising (img2img below 1).")
    record_attention: bool = Input(True, tooltip="Record cross-attention for the ATTENTION_MAPS output.")
    target_positive: Conditioning = Input(
        optional=True, tooltip="The edited prompt's conditioning; without it only the source is sampled."
    )
    edit: AttentionEdit = Input(optional=True, tooltip="An attention edit (AttentionReplace, MasaCtrl, ...).")

    def run(self, ctx: NodeContext) -> EditedLatents:
        import torch
        from graphflow.nodes.sampling import run_sampler_rows

        from graphflow.attention.controller import edit_session
        from graphflow.attention.maps import AttentionMaps as Maps
        from graphflow.sampling.loop import denoise_slice

        if self.model is None:
            raise ValueError("KSamplerAttentionEdit: the model input is empty; connect a MODEL")
        samples = self.latent_image["samples"]
        if samples.shape[0] != 1:
            raise ValueError(
                f"KSamplerAttentionEdit: latent_image has a batch of {samples.shape[0]}; it takes one latent "
                "(the source and target rows are made from it); use Latent From Batch to pick one"
            )
        target = self.__dict__.get("target_positive")
        edit = self.__dict__.get("edit")
        if edit is not None and target is None:
            raise ValueError(
                "KSamplerAttentionEdit: an edit needs target_positive (the edited prompt's conditioning)"
            )
        rows = 2 if target is not None else 1
        if self.denoise <= 0.0:
            return EditedLatents(dict(self.latent_image), dict(self.latent_image), None)
        total, start = denoise_slice(self.steps, self.denoise)
        inversion = self.latent_image.get(REFERENCE_KEY)
        reference = _reference(inversion, self.sampler_name, self.scheduler, total, start, self.model)
        latent = {
            key: value
            for key, value in self.latent_image.items()
            if key not in (REFERENCE_KEY, "batch_index")
        }
        latent["samples"] = samples.repeat(rows, 1, 1, 1)
        if "noise_mask" in latent:
            latent["noise_mask"] = torch.as_tensor(latent["noise_mask"])[:1]
        positives = [self.source_positive] + ([target] if target is not None else [])
        prompts = _prompts(edit, rows)
        hw = tuple(samples.shape[-2:])
        with edit_session(
            self.model.unet, edit, prompts, hw, record=self.record_attention, reference=reference
        ) as session:
            result = run_sampler_rows(
                ctx,
                self.model,
                latent,
                positives,
                [self.negative],
                hooks=session.hooks,
                sampler_name=self.sampler_name,
                scheduler_name=self.scheduler,
                steps=total,
                start_step=start,
                cfg=self.cfg,
                seed=self.seed,
                add_noise=reference is None,
            )
        maps = session.maps() or Maps(tuple(prompts), None)
        out = result["samples"]
        source = {**latent, "samples": out[:1]}
        edited = {**latent, "samples": out[1:2] if rows == 2 else out[:1]}
        return EditedLatents(source, edited, maps)


def _reference(inversion: Any, sampler: str, scheduler: str, total: int, start: int, model: Any) -> Any:
    if inversion is None:
        return None
    from graphflow.sampling.schedulers import build_scheduler

    timesteps = [
        int(t) for t in build_scheduler(sampler, scheduler, model.schedule, total).scheduler.timesteps
    ]
    if start != 0 or tuple(timesteps) != inversion.timesteps:
        raise ValueError(
            f"KSamplerAttentionEdit: the latent comes from DDIMInversion with {inversion.steps} steps; sample it "
            f"with sampler ddim, scheduler ddim_uniform, steps {inversion.steps} and denoise 1.0"
        )
    return inversion.latents


@node("DDIMInversion", display_name="DDIM Inversion", category="attention")
class DDIMInversion(Node):
    """Turn a real image's latent into the noise that DDIM sampling maps back onto it, keeping the whole
    trajectory. Feed the result to KSamplerAttentionEdit (sampler ddim, scheduler ddim_uniform, same steps):
    the source branch then reconstructs the image while the target branch is edited."""

    model: Model = Input(tooltip="The model used for inversion (the same as for editing).")
    positive: Conditioning = Input(tooltip="The conditioning describing the image (often an empty prompt).")
    negative: Conditioning = Input(tooltip="The negative conditioning.")
    latent_image: Latent = Input(tooltip="The encoded image (VAE Encode), batch of 1.")
    steps: int = Input(20, min=1, max=1000, tooltip="DDIM steps (use the same in the sampler).")
    cfg: float = Input(
        1.0, min=0.0, max=100.0, step=0.1, tooltip="Guidance during inversion (1 is most faithful)."
    )

    def run(self, ctx: NodeContext) -> LatentOutput:
        from graphflow.attention.inversion import ddim_invert, start_latent

        samples = self.latent_image["samples"]
        if samples.shape[0] != 1:
            raise ValueError("DDIMInversion: latent_image must be a batch of 1")
        inversion = ddim_invert(self.model, samples, self.positive, self.negative, self.steps, self.cfg)
        return LatentOutput({"samples": start_latent(inversion, self.model), REFERENCE_KEY: inversion})
