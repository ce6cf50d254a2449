"""Textual-inversion embeddings: read the vectors a prompt's ``embedding:<name>`` inserts.

Accepted layouts (safetensors, or torch files read with ``weights_only=True``):

* ``emb_params``: ``[n, dim]`` (A1111 safetensors);
* ``string_to_param``: ``{"*": [n, dim]}`` (A1111 ``.pt``);
* ``clip_l`` ``[n, 768]`` and ``clip_g`` ``[n, 1280]`` (SDXL);
* a single tensor under any other key, e.g. diffusers' ``learned_embeds.bin`` ``{"<token>": [dim]}``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from graphflow.models.errors import ModelFileError

EMBEDDING_KEYS = ("clip_l", "clip_g", "clip_h")


@dataclass(frozen=True, eq=False)
class Embedding:
    """One textual inversion. ``vectors`` maps an encoder name (``"clip_l"``, ``"clip_g"``, or ``""`` when
    the file does not say) to a float tensor ``[n_vectors, width]``."""

    name: str
    vectors: dict[str, torch.Tensor]

    def for_width(self, width: int) -> torch.Tensor | None:
        """The vectors for an encoder of hidden size ``width``, or ``None`` if none fit."""
        for tensor in self.vectors.values():
            if tensor.shape[-1] == width:
                return tensor
        return None

    @property
    def num_vectors(self) -> int:
        return max(t.shape[0] for t in self.vectors.values())


def _as_matrix(value: Any, path: Path) -> torch.Tensor:
    if not isinstance(value, torch.Tensor) or not value.is_floating_point():
        raise ModelFileError(f"{path.name}: embedding vectors must be a float tensor.")
    tensor = value.detach().float()
    while tensor.ndim > 2 and tensor.shape[0] == 1:
        tensor = tensor[0]
    if tensor.ndim == 1:
        tensor = tensor.unsqueeze(0)
    if tensor.ndim != 2:
        raise ModelFileError(
            f"{path.name}: expected embedding vectors [n, width], got shape {list(value.shape)}."
        )
    return tensor.clone()


def embedding_from_state(data: Mapping[str, Any], path: Path) -> Embedding:
    """Pick the vectors out of a loaded embedding file (see the module docstring for layouts)."""
    if "emb_params" in data:
        return Embedding(path.stem, {"": _as_matrix(data["emb_params"], path)})
    if isinstance(data.get("string_to_param"), Mapping):
        params = list(data["string_to_param"].values())
        if len(params) != 1:
            raise ModelFileError(f"{path.name}: string_to_param holds {len(params)} entries; expected one.")
        return Embedding(path.stem, {"": _as_matrix(params[0], path)})
    found = {k: _as_matrix(data[k], path) for k in EMBEDDING_KEYS if k in data}
    if found:
        return Embedding(path.stem, found)
    tensors = {k: v for k, v in data.items() if isinstance(v, torch.Tensor)}
    if len(tensors) == 1:
        return Embedding(path.stem, {"": _as_matrix(next(iter(tensors.values())), path)})
    raise ModelFileError(
        f"{path.name}: not a textual-inversion embedding (expected emb_params, string_to_param, clip_l/clip_g, "
        f"or a single tensor; found {', '.join(sorted(map(str, data))[:6])})."
    )


def load_embedding_file(path: str | os.PathLike[str]) -> Embedding:
    """Read one embedding file (never unpickles code: torch files use ``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such file.")
    if path.suffix.lower() == ".safetensors":
        from safetensors.torch import load_file

        try:
            data: Mapping[str, Any] = load_file(str(path))
        except Exception as exc:  # safetensors' own error type
            raise ModelFileError(f"{path.name}: cannot read ({exc}).") from exc
        return embedding_from_state(data, path)
    import pickle

    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ModelFileError(
            f"{path.name}: this embedding pickles Python objects, which graphflow refuses to load (it could run "
            f"code). Convert it to .safetensors with a tool you trust. ({str(exc).splitlines()[0]})"
        ) from None
    except (RuntimeError, EOFError, OSError) as exc:
        raise ModelFileError(f"{path.name}: cannot read ({exc}).") from exc
    if not isinstance(data, Mapping):
        data = {"": data}
    return embedding_from_state(data, path)
