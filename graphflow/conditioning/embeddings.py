"""Find the textual-inversion embeddings a prompt names with ``embedding:<name>``.

A name is looked up in each folder as given and with the extensions ``.safetensors``, ``.pt``, ``.pth``,
``.bin`` (names may contain ``/`` for subfolders but never leave their folder). Files are read by the model
manager's ``load_embedding`` when one is available (it caches), otherwise by
:func:`graphflow.models.embeddings.load_embedding_file` (the accepted layouts are listed there).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch

from graphflow.models.embeddings import load_embedding_file
from graphflow.paths import UnsafePathError, resolve_inside

log = logging.getLogger(__name__)
EXTENSIONS = ("", ".safetensors", ".pt", ".pth", ".bin")


class EmbeddingLibrary:
    """Embeddings available to one prompt encoding.

    Args:
        folders: where to look, in order.
        load: ``load(path)`` returning an :class:`~graphflow.models.embeddings.Embedding`; defaults to
            :func:`~graphflow.models.embeddings.load_embedding_file` (the nodes pass the model manager's
            cached loader).
    """

    def __init__(self, folders: Iterable[str | os.PathLike[str]], load: Callable[[Path], Any] | None = None):
        self.folders = [Path(f) for f in folders]
        self._load = load or load_embedding_file
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
        rows = loaded.for_width(width) if loaded is not None else None
        if rows is None and name not in self.missing:
            self.missing.append(name)
            log.warning("embedding %r not found (or has no vectors of width %d); it is left out", name, width)
        return rows
