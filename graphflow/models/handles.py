"""The values that travel on MODEL, CLIP and VAE sockets.

A handle is a small immutable description that points at shared, cached torch modules. Nodes that
"modify" a model (LoRA, CLIP skip) return a *new* handle with an extra patch or setting; the cached
modules themselves are only changed inside :meth:`DiffusionModel.patched` / :meth:`TextEncoder.patched`,
which restore them on exit. That way a cached model is never left modified by a node that ran earlier.

Heavy libraries (diffusers, transformers) are imported by the loaders, never here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Literal

ModelFamily = Literal["sd1", "sd2", "sdxl"]
PredictionType = Literal["epsilon", "v_prediction"]


@dataclass(frozen=True, eq=False)
class WeightPatch:
    """A low-rank or full weight delta to add to named parameters of a module.

    ``deltas`` maps a parameter name of the target module (``"down_blocks.0...to_q.weight"``) to a
    callable-free tensor recipe: either ``("lowrank", up, down, scale)`` or ``("full", delta, scale)``.
    ``source`` identifies the patch file for cache keys and messages.
    """

    source: str
    deltas: dict[str, tuple[Any, ...]]
    strength: float = 1.0


@contextmanager
def applied_patches(module: Any, patches: tuple[WeightPatch, ...]) -> Iterator[Any]:
    """Add the patches' deltas to ``module``'s parameters in place and restore the originals on exit."""
    if not patches:
        yield module
        return
    import torch

    params = dict(module.named_parameters())
    backups: dict[str, torch.Tensor] = {}
    try:
        with torch.no_grad():
            for patch in patches:
                for name, recipe in patch.deltas.items():
                    param = params.get(name)
                    if param is None:
                        continue
                    if name not in backups:
                        backups[name] = param.detach().clone()
                    param.add_(_delta(recipe, param, patch.strength))
        yield module
    finally:
        with torch.no_grad():
            for name, original in backups.items():
                params[name].copy_(original)


def _delta(recipe: tuple[Any, ...], param: Any, strength: float) -> Any:
    """The weight delta of one recipe, computed in fp32 for half-precision weights, cast to ``param``'s dtype."""
    import torch

    work = torch.float32 if param.dtype in (torch.float16, torch.bfloat16) else param.dtype
    kind = recipe[0]
    if kind == "lowrank":
        _, up, down, scale = recipe
        up = up.to(param.device, work)
        down = down.to(param.device, work)
        if param.ndim == 4 and down.ndim == 4 and down.shape[-1] != 1:
            product = torch.einsum("or,rihw->oihw", up.flatten(1), down)  # 3x3 "down", 1x1 "up" (LoCon)
        else:  # linear, or 1x1 conv collapsed to a matmul
            product = (up.flatten(1) @ down.flatten(1)).reshape(param.shape)
        return (product * (scale * strength)).to(param.dtype)
    if kind == "full":
        _, delta, scale = recipe
        return (delta.to(param.device, work).reshape(param.shape) * (scale * strength)).to(param.dtype)
    raise ValueError(f"unknown weight patch kind {kind!r}")


@dataclass(frozen=True, eq=False)
class NoiseSchedule:
    """The training noise schedule of a diffusion model, in diffusers scheduler-config terms.

    ``zero_terminal_snr``: the betas were rescaled to reach zero SNR at the last step (checkpoints with a
    top-level ``ztsnr`` key); diffusers' ``rescale_betas_zero_snr``.
    """

    num_train_timesteps: int = 1000
    beta_start: float = 0.00085
    beta_end: float = 0.012
    beta_schedule: str = "scaled_linear"
    prediction_type: PredictionType = "epsilon"
    zero_terminal_snr: bool = False

    def scheduler_config(self) -> dict[str, Any]:
        return {
            "num_train_timesteps": self.num_train_timesteps,
            "beta_start": self.beta_start,
            "beta_end": self.beta_end,
            "beta_schedule": self.beta_schedule,
            "prediction_type": self.prediction_type,
            "rescale_betas_zero_snr": self.zero_terminal_snr,
        }


@dataclass(frozen=True, eq=False)
class DiffusionModel:
    """MODEL: a denoising UNet plus what a sampler needs to drive it.

    ``unet`` is a diffusers ``UNet2DConditionModel`` shared with the model cache: treat it as read-only
    outside :meth:`patched`. ``latent_scale`` converts raw VAE latents (what LATENT sockets carry) into
    the space the UNet was trained in (0.18215 for SD1.x/SD2.x, 0.13025 for SDXL).
    """

    unet: Any
    family: ModelFamily
    schedule: NoiseSchedule
    latent_scale: float
    source: str
    patches: tuple[WeightPatch, ...] = ()
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def device(self) -> Any:
        return next(self.unet.parameters()).device

    @property
    def dtype(self) -> Any:
        return next(self.unet.parameters()).dtype

    def with_patch(self, patch: WeightPatch) -> DiffusionModel:
        return replace(self, patches=(*self.patches, patch))

    @contextmanager
    def patched(self) -> Iterator[Any]:
        """Yield the UNet with this handle's weight patches applied; restore it afterwards."""
        with applied_patches(self.unet, self.patches) as unet:
            yield unet


@dataclass(frozen=True, eq=False)
class TextEncoderPart:
    """One CLIP text encoder with its tokenizer.

    ``pad_token_id``: CLIP-L pads with the end token (49407), OpenCLIP encoders with 0.
    ``final_layer_norm``: whether hidden states taken from an inner layer get the final LayerNorm.
    ``default_layer``: the hidden layer a family uses by default (-1 last, -2 penultimate).
    ``pooled``: whether this encoder supplies the pooled/projected output (SDXL's bigG).
    """

    name: str
    tokenizer: Any
    model: Any
    pad_token_id: int
    final_layer_norm: bool = True
    default_layer: int = -1
    pooled: bool = False


@dataclass(frozen=True, eq=False)
class TextEncoder:
    """CLIP: one (SD1.x, SD2.x) or two (SDXL) text encoders and the layer to read from.

    ``stop_at_layer`` follows ComfyUI's CLIPSetLastLayer: -1 is the last layer, -2 the penultimate.
    ``None`` means the family default.
    """

    parts: tuple[TextEncoderPart, ...]
    family: ModelFamily
    source: str
    stop_at_layer: int | None = None
    embedding_dirs: tuple[str, ...] = ()
    patches: tuple[WeightPatch, ...] = ()

    def with_last_layer(self, layer: int) -> TextEncoder:
        return replace(self, stop_at_layer=layer)

    def with_patch(self, patch: WeightPatch) -> TextEncoder:
        return replace(self, patches=(*self.patches, patch))

    @contextmanager
    def patched(self) -> Iterator[tuple[TextEncoderPart, ...]]:
        """Yield the encoder parts with weight patches applied (patch keys are ``"<part>.<param>"``)."""
        if not self.patches:
            yield self.parts
            return
        with _patched_parts(self.parts, self.patches):
            yield self.parts


@contextmanager
def _patched_parts(parts: tuple[TextEncoderPart, ...], patches: tuple[WeightPatch, ...]) -> Iterator[None]:
    from contextlib import ExitStack

    with ExitStack() as stack:
        for part in parts:
            prefix = part.name + "."
            own = tuple(
                WeightPatch(
                    p.source,
                    {k[len(prefix) :]: v for k, v in p.deltas.items() if k.startswith(prefix)},
                    p.strength,
                )
                for p in patches
            )
            stack.enter_context(applied_patches(part.model, own))
        yield


@dataclass(frozen=True, eq=False)
class Vae:
    """VAE: a diffusers ``AutoencoderKL``.

    LATENT sockets carry *raw* latents (the posterior mean, unscaled), exactly like ComfyUI; the sampler
    applies the model's ``latent_scale``. ``downscale_ratio`` is 2 ** (number of VAE levels - 1).
    """

    vae: Any
    downscale_ratio: int
    latent_channels: int
    source: str

    @property
    def device(self) -> Any:
        return next(self.vae.parameters()).device

    @property
    def dtype(self) -> Any:
        return next(self.vae.parameters()).dtype
