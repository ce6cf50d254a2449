"""Find and read the textual-inversion embeddings a prompt names with ``embedding:<name>``.

A name is looked up in each folder as given and with the extensions ``.safetensors``, ``.pt``, ``.pth``,
``.bin`` (names may contain ``/`` for subfolders but never leave their folder). Files are read by the model
manager's ``load_embedding`` when one is available (it caches), otherwise here, with the usual layouts:
``emb_params`` (A1111 safetensors), ``string_to_param`` (A1111 ``.pt``), ``clip_l``/``clip_g`` (SDXL), or a
single tensor (diffusers ``learned_embeds``). Pickled files are read with ``weights_only=True``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

from graphflow.paths import UnsafePathError, resolve_inside

log = logging.getLogger(__name__)
EXTENSIONS = ("", ".safetensors", ".pt", ".pth", ".bin")


class EmbeddingError(ValueError):
    """An embedding file exists but cannot be used."""


def _matrix(value: Any, path: Path) -> torch.Tensor:
    if not isinstance(value, torch.Tensor) or not value.is_floating_point():
        raise EmbeddingError(f"{path.name}: embedding vectors must be a float tensor")
    tensor = value.detach().float()
    while tensor.ndim > 2 and tensor.shape[0] == 1:
        tensor = tensor[0]
    if tensor.ndim == 1:
        tensor = tensor.unsqueeze(0)
    if tensor.ndim != 2:
        raise EmbeddingError(f"{path.name}: expected vectors [n, width], got shape {list(value.shape)}")
    return tensor


def vectors_from_state(data: Mapping[str, Any], path: Path) -> dict[str, torch.Tensor]:
    """The vector matrices of a loaded embedding file, keyed by encoder name (``""`` when unnamed)."""
    if "emb_params" in data:
        return {"": _matrix(data["emb_params"], path)}
    params = data.get("string_to_param")
    if isinstance(params, Mapping) and len(params) == 1:
        return {"": _matrix(next(iter(params.values())), path)}
    named = {key: _matrix(data[key], path) for key in ("clip_l", "clip_g", "clip_h") if key in data}
    if named:
        return named
    tensors = [v for v in data.values() if isinstance(v, torch.Tensor)]
    if len(tensors) == 1:
        return {"": _matrix(tensors[0], path)}
    raise EmbeddingError(
        f"{path.name}: not a textual-inversion embedding (keys: {', '.join(map(str, data))[:200]})"
    )


def read_embedding_file(path: Path) -> dict[str, torch.Tensor]:
    """Read one embedding file without the model manager."""
    if path.suffix.lower() == ".safetensors":
        from safetensors.torch import load_file

        return vectors_from_state(load_file(str(path)), path)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # pickle refusing code, or a damaged file
        raise EmbeddingError(f"{path.name}: cannot read it safely ({str(error).splitlines()[0]})") from None
    return vectors_from_state(data if isinstance(data, Mapping) else {"": data}, path)


def _rows_for_width(loaded: Any, width: int) -> torch.Tensor | None:
    if hasattr(loaded, "for_width"):  # the model manager's Embedding
        return loaded.for_width(width)
    for tensor in loaded.values():
        if tensor.shape[-1] == width:
            return tensor
    return None


class EmbeddingLibrary:
    """Embeddings available to one prompt encoding.

    Args:
        folders: where to look, in order.
        load: ``load(path)`` returning an object with ``for_width(width)`` or a dict of ``[n, width]``
            tensors; defaults to :func:`read_embedding_file`.
    """

    def __init__(self, folders: Iterable[str | os.PathLike[str]], load: Callable[[Path], Any] | None = None):
        self.folders = [Path(f) for f in folders]
        self._load = load or read_embedding_file
        self._loaded: dict[str, Any] = {}
        self.missing: list[str] = []

    def find(self, name: str) -> Path | None:
        for folder in self.folders:
            if not folder.is_dir():
                continue
            for extension in EXTENSIONS:
                try:
                    candidate = resolve_inside(folder, name + extension)
                except UnsafePathError:
                    return None
                if candidate.is_file():
                    return candidate
        return None

    def vectors(self, name: str, width: int) -> torch.Tensor | None:
        """``[n, width]`` vectors of embedding ``name``, or None (and ``name`` noted as missing)."""
        if name not in self._loaded:
            path = self.find(name)
            self._loaded[name] = self._load(path) if path is not None else None
        loaded = self._loaded[name]
        rows = _rows_for_width(loaded, width) if loaded is not None else None
        if rows is None and name not in self.missing:
            self.missing.append(name)
            log.warning("embedding %r not found (or has no vectors of width %d); it is left out", name, width)
        return rows
