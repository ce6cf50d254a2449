"""The transformers ``CLIPTextConfig`` of a text encoder, read from tensor shapes.

Shapes give layers, width, MLP width, vocabulary size, context length and the projection width. Not in
the weights: the head count (64-channel heads by convention: CLIP-L 12, ViT-H 16, bigG 20) and the
activation (``quick_gelu`` for OpenAI's CLIP-L in HF layout, ``gelu`` for OpenCLIP encoders); the
``graphflow.text_encoder_config`` / ``graphflow.text_encoder_2_config`` metadata entries override them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from graphflow.models import metadata as meta
from graphflow.models.errors import UnsupportedModelError
from graphflow.models.state_dict import Shapes
from graphflow.models.tokenizer import END_TOKEN_ID, START_TOKEN_ID

HEAD_CHANNELS = 64
LAYER_NORM_EPS = 1e-5
OPENCLIP_PAD_TOKEN_ID = 0


def _count_layers(shapes: Shapes, pattern: str) -> int:
    regex = re.compile(pattern)
    return len({m.group(1) for k in shapes if (m := regex.match(k))})


def infer_clip_config(
    shapes: Shapes,
    prefix: str,
    layout: str,
    metadata: Mapping[str, str] | None = None,
    metadata_key: str = meta.TEXT_ENCODER_CONFIG,
    name: str = "text encoder",
) -> dict[str, Any]:
    """Shapes of one text encoder under ``prefix`` -> ``CLIPTextConfig`` keyword arguments.

    ``layout``: ``"hf"`` (keys ``embeddings.*``/``encoder.layers.N.*``, possibly under ``text_model.``) or
    ``"openclip"`` (``token_embedding``, ``transformer.resblocks.N.*``).
    """
    s = {k[len(prefix) :].removeprefix("text_model."): v for k, v in shapes.items() if k.startswith(prefix)}
    if layout == "hf":
        token = s.get("embeddings.token_embedding.weight")
        positions = s.get("embeddings.position_embedding.weight")
        layers = _count_layers(s, r"^encoder\.layers\.(\d+)\.")
        fc1 = s.get("encoder.layers.0.mlp.fc1.weight")
        projection = s.get("text_projection.weight")
        projection_dim = projection[0] if projection else None
        hidden_act, pad = "quick_gelu", END_TOKEN_ID
    elif layout == "openclip":
        token = s.get("token_embedding.weight")
        positions = s.get("positional_embedding")
        layers = _count_layers(s, r"^transformer\.resblocks\.(\d+)\.")
        fc1 = s.get("transformer.resblocks.0.mlp.c_fc.weight")
        projection = s.get("text_projection")
        projection_dim = projection[1] if projection else None
        hidden_act, pad = "gelu", OPENCLIP_PAD_TOKEN_ID
    else:
        raise ValueError(f"unknown text encoder layout {layout!r}")
    if token is None or positions is None or fc1 is None or layers == 0:
        raise UnsupportedModelError(
            f"{name}: incomplete text encoder under {prefix!r} (token/position embeddings or layers missing)."
        )
    hidden = token[1]
    config: dict[str, Any] = {
        "vocab_size": token[0],
        "hidden_size": hidden,
        "intermediate_size": fc1[0],
        "num_hidden_layers": layers,
        "num_attention_heads": max(1, hidden // HEAD_CHANNELS),
        "max_position_embeddings": positions[0],
        "hidden_act": hidden_act,
        "layer_norm_eps": LAYER_NORM_EPS,
        "projection_dim": projection_dim or hidden,
        "bos_token_id": START_TOKEN_ID,
        "eos_token_id": END_TOKEN_ID,
        "pad_token_id": pad,
    }
    config.update(meta.json_value(metadata or {}, metadata_key))
    if config["hidden_size"] % config["num_attention_heads"]:
        raise UnsupportedModelError(
            f"{name}: cannot split width {hidden} into {config['num_attention_heads']} attention heads; store "
            f"the head count in the safetensors metadata: {metadata_key} = '{{\"num_attention_heads\": N}}'."
        )
    if config["vocab_size"] <= END_TOKEN_ID:
        raise UnsupportedModelError(
            f"{name}: the text encoder knows {config['vocab_size']} tokens, but graphflow's CLIP tokenizer "
            f"produces ids up to {END_TOKEN_ID}; the model must keep CLIP's full 49408-token vocabulary."
        )
    return config
