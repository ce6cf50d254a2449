"""Output schemas shared by many nodes (a node's ``run`` is annotated to return one of these)."""

from __future__ import annotations

from typing import Any

from graphflow import types as t
from graphflow.node import Output, Outputs
from graphflow.sockets import Clip, Conditioning, Image, Latent, Mask, Model, Vae


class ImageOutput(Outputs):
    image: Image = Output(name="IMAGE")


class MaskOutput(Outputs):
    mask: Mask = Output(name="MASK")


class LatentOutput(Outputs):
    latent: Latent = Output(name="LATENT")


class ConditioningOutput(Outputs):
    conditioning: Conditioning = Output(name="CONDITIONING")


class ModelOutput(Outputs):
    model: Model = Output(name="MODEL")


class ClipOutput(Outputs):
    clip: Clip = Output(name="CLIP")


class VaeOutput(Outputs):
    vae: Vae = Output(name="VAE")


class IntOutput(Outputs):
    value: int = Output(name="INT", type=t.INT)


class FloatOutput(Outputs):
    value: float = Output(name="FLOAT", type=t.FLOAT)


class StringOutput(Outputs):
    value: str = Output(name="STRING", type=t.STRING)


class BooleanOutput(Outputs):
    value: bool = Output(name="BOOLEAN", type=t.BOOLEAN)


class AnyOutput(Outputs):
    value: Any = Output(name="*", type=t.ANY)
