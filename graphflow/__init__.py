"""graphflow: a typed node-graph runtime for latent-diffusion image generation.

This module is the import surface for node-pack authors::

    from graphflow import Input, Node, NodeContext, Outputs, Output, node
    from graphflow import Image, Latent, ImageOutput, LatentOutput
"""

from graphflow.context import CancelToken, Interrupted, NodeContext, Runtime
from graphflow.node import Input, Node, Output, Outputs, node
from graphflow.outputs import (
    AnyOutput,
    BooleanOutput,
    ClipOutput,
    ConditioningOutput,
    FloatOutput,
    ImageOutput,
    IntOutput,
    LatentOutput,
    MaskOutput,
    ModelOutput,
    StringOutput,
    VaeOutput,
)
from graphflow.sockets import (
    AnyValue,
    AttentionEdit,
    Clip,
    Conditioning,
    Image,
    Latent,
    Mask,
    Model,
    Socket,
    Vae,
)
from graphflow.types import (
    ANY,
    ATTENTION_EDIT,
    BOOLEAN,
    CLIP,
    COMBO,
    CONDITIONING,
    FLOAT,
    IMAGE,
    INT,
    LATENT,
    MASK,
    MODEL,
    STRING,
    VAE,
    is_compatible,
)
from graphflow.values import ExecutionBlocker, NodeResult

__version__ = "0.1.0"

__all__ = [
    "ANY",
    "ATTENTION_EDIT",
    "BOOLEAN",
    "CLIP",
    "COMBO",
    "CONDITIONING",
    "FLOAT",
    "IMAGE",
    "INT",
    "LATENT",
    "MASK",
    "MODEL",
    "STRING",
    "VAE",
    "AnyOutput",
    "AnyValue",
    "AttentionEdit",
    "BooleanOutput",
    "CancelToken",
    "Clip",
    "ClipOutput",
    "Conditioning",
    "ConditioningOutput",
    "ExecutionBlocker",
    "FloatOutput",
    "Image",
    "ImageOutput",
    "Input",
    "IntOutput",
    "Interrupted",
    "Latent",
    "LatentOutput",
    "Mask",
    "MaskOutput",
    "Model",
    "ModelOutput",
    "Node",
    "NodeContext",
    "NodeResult",
    "Output",
    "Outputs",
    "Runtime",
    "Socket",
    "StringOutput",
    "Vae",
    "VaeOutput",
    "__version__",
    "is_compatible",
    "node",
]
