"""Model loaders: checkpoints, VAEs and LoRAs from the model folders (``models/<kind>`` and friends)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from graphflow.node import Input, Node, Output, Outputs, node
from graphflow.outputs import ModelOutput, VaeOutput
from graphflow.sockets import Clip, Model, Vae

if TYPE_CHECKING:
    from graphflow.context import NodeContext, Runtime

log = logging.getLogger(__name__)


class _ModelFiles:
    """Choices of a model-file input: the files of one model kind, read when asked so new files count."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __call__(self, runtime: Runtime) -> list[str]:
        return runtime.model_folders.list(self.kind)

    def when_empty(self, runtime: Runtime) -> str:
        """The fix shown when no file of this kind exists: where to put one."""
        folder = runtime.model_folders.folders(self.kind)[0]
        return f"put a {self.kind.rstrip('s')} file (.safetensors) in {folder}"


class CheckpointOutputs(Outputs):
    model: Model = Output(name="MODEL", tooltip="The model used for denoising latents.")
    clip: Clip = Output(name="CLIP", tooltip="The CLIP model used for encoding text prompts.")
    vae: Vae = Output(
        name="VAE", tooltip="The VAE model used for encoding and decoding images to and from latent space."
    )


@node("CheckpointLoaderSimple", display_name="Load Checkpoint", category="loaders", python_module="nodes")
class CheckpointLoaderSimple(Node):
    """Loads a diffusion model checkpoint, diffusion models are used to denoise latents.

    Single-file ``.safetensors`` (or weights-only ``.ckpt``) SD1.x, SD2.x and SDXL checkpoints, and
    diffusers folders; the family and configuration are read from the file itself.
    """

    ckpt_name: str = Input(
        options=_ModelFiles("checkpoints"), tooltip="The name of the checkpoint (model) to load."
    )

    def run(self, ctx: NodeContext) -> CheckpointOutputs:
        runtime = ctx.runtime
        loaded = runtime.models.load_checkpoint(runtime.model_folders.resolve("checkpoints", self.ckpt_name))
        missing = [
            name
            for name, part in (("a text encoder (CLIP)", loaded.clip), ("a VAE", loaded.vae))
            if part is None
        ]
        if missing:
            raise ValueError(f"checkpoint {self.ckpt_name!r} has no {' and no '.join(missing)}")
        return CheckpointOutputs(loaded.model, loaded.clip, loaded.vae)


@node("VAELoader", display_name="Load VAE", category="loaders", python_module="nodes")
class VAELoader(Node):
    """Load a standalone VAE file from the ``vae`` model folder."""

    vae_name: str = Input(options=_ModelFiles("vae"))

    def run(self, ctx: NodeContext) -> VaeOutput:
        runtime = ctx.runtime
        return VaeOutput(runtime.models.load_vae(runtime.model_folders.resolve("vae", self.vae_name)))


class LoraOutputs(Outputs):
    model: Model = Output(name="MODEL", tooltip="The modified diffusion model.")
    clip: Clip = Output(name="CLIP", tooltip="The modified CLIP model.")


@node("LoraLoader", display_name="Load LoRA", category="loaders", python_module="nodes")
class LoraLoader(Node):
    """LoRAs are used to modify diffusion and CLIP models, altering the way in which latents are denoised
    such as applying styles. Multiple LoRA nodes can be linked together.

    The patched models are new handles: the cached base model is only modified while a sampler or text
    encoder runs, and restored afterwards.
    """

    model: Model = Input(tooltip="The diffusion model the LoRA will be applied to.")
    clip: Clip = Input(tooltip="The CLIP model the LoRA will be applied to.")
    lora_name: str = Input(options=_ModelFiles("loras"), tooltip="The name of the LoRA.")
    strength_model: float = Input(
        1.0,
        min=-100.0,
        max=100.0,
        step=0.01,
        tooltip="How strongly to modify the diffusion model. This value can be negative.",
    )
    strength_clip: float = Input(
        1.0,
        min=-100.0,
        max=100.0,
        step=0.01,
        tooltip="How strongly to modify the CLIP model. This value can be negative.",
    )

    def run(self, ctx: NodeContext) -> LoraOutputs:
        if self.strength_model == 0 and self.strength_clip == 0:
            return LoraOutputs(self.model, self.clip)
        patches = _load_lora(
            ctx, self.lora_name, self.model, self.clip, self.strength_model, self.strength_clip
        )
        model = self.model.with_patch(patches.unet) if self.strength_model else self.model
        clip = self.clip.with_patch(patches.clip) if self.strength_clip else self.clip
        return LoraOutputs(model, clip)


@node("LoraLoaderModelOnly", display_name="LoraLoaderModelOnly", category="loaders", python_module="nodes")
class LoraLoaderModelOnly(Node):
    """Apply a LoRA to the diffusion model only."""

    model: Model = Input()
    lora_name: str = Input(options=_ModelFiles("loras"))
    strength_model: float = Input(1.0, min=-100.0, max=100.0, step=0.01)

    def run(self, ctx: NodeContext) -> ModelOutput:
        if self.strength_model == 0:
            return ModelOutput(self.model)
        patches = _load_lora(ctx, self.lora_name, self.model, None, self.strength_model, 0.0)
        return ModelOutput(self.model.with_patch(patches.unet))


def _load_lora(ctx: NodeContext, name: str, model, clip, strength_model: float, strength_clip: float):
    runtime = ctx.runtime
    path = runtime.model_folders.resolve("loras", name)
    patches = runtime.models.load_lora(path, model, clip, strength_model, strength_clip)
    if patches.unmatched:
        log.warning(
            "LoRA %s: %d keys matched no layer and were ignored (e.g. %s)",
            name,
            len(patches.unmatched),
            patches.unmatched[0],
        )
    if not patches.unet.deltas and not patches.clip.deltas:
        raise ValueError(
            f"LoRA {name!r} matched no layer of this model; is it made for another model family?"
        )
    return patches
