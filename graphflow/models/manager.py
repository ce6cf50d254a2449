"""The model cache: load each model file once, keep it while memory allows, hand out shared handles.

Entries are keyed by file identity (resolved path, size, modification time in ns), so editing or
replacing a file makes the next request load it again. Every entry counts the bytes of its tensors
against a budget (default: :meth:`DevicePolicy.memory_budget_bytes`); when a new entry pushes the total
over it, whole entries are evicted least-recently-used first (the newest entry always stays). Evicting
only drops the cache's reference: handles that nodes still hold keep working.

Thread-safe: the cache is guarded by one lock, and each file has its own loading lock, so two threads
asking for the same file load it once while other requests (and :meth:`stats`) are not blocked.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from graphflow.models.device import DevicePolicy
from graphflow.models.diffusers_folder import is_diffusers_folder, load_diffusers_folder
from graphflow.models.embeddings import Embedding, load_embedding_file
from graphflow.models.errors import ModelFileError
from graphflow.models.handles import DiffusionModel, TextEncoder, Vae
from graphflow.models.load import LoadedCheckpoint, load_checkpoint, load_vae_file
from graphflow.models.lora import LoraPatches, lora_patches
from graphflow.models.state_dict import CheckpointFile

Identity = tuple[str, str, int, int]  # (kind, resolved path, size in bytes, mtime in ns)


@dataclass
class _Entry:
    kind: str
    path: str
    value: Any
    nbytes: int


@dataclass(frozen=True)
class CacheStats:
    """What the cache holds: ``entries`` are ``(kind, path, bytes)`` from least to most recently used."""

    entries: tuple[tuple[str, str, int], ...]
    total_bytes: int
    budget_bytes: int


def _tensor_bytes(tensors: Iterable[torch.Tensor]) -> int:
    seen: set[tuple[int, int]] = set()
    total = 0
    for tensor in tensors:
        key = (tensor.untyped_storage().data_ptr(), tensor.untyped_storage().nbytes())
        if tensor.device.type == "meta" or key in seen:
            continue
        seen.add(key)
        total += tensor.untyped_storage().nbytes()
    return total


def _module_tensors(module: Any) -> list[torch.Tensor]:
    return [*module.parameters(), *module.buffers()]


def _loaded_bytes(loaded: LoadedCheckpoint) -> int:
    tensors = _module_tensors(loaded.model.unet)
    if loaded.clip is not None:
        for part in loaded.clip.parts:
            tensors += _module_tensors(part.model)
    if loaded.vae is not None:
        tensors += _module_tensors(loaded.vae.vae)
    return _tensor_bytes(tensors)


def file_identity(kind: str, path: str | os.PathLike[str]) -> Identity:
    """(kind, real path, size, mtime_ns); for a folder, the total size and newest mtime of its files."""
    real = os.path.realpath(path)
    if os.path.isdir(real):
        size, mtime = 0, os.stat(real).st_mtime_ns
        for current, _dirs, files in os.walk(real):
            for file in files:
                stat = os.stat(os.path.join(current, file))
                size += stat.st_size
                mtime = max(mtime, stat.st_mtime_ns)
        return (kind, real, size, mtime)
    try:
        stat = os.stat(real)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such file.") from None
    return (kind, real, stat.st_size, stat.st_mtime_ns)


class ModelManager:
    """Loads and caches checkpoints, VAEs, LoRAs and embeddings for one runtime.

    ``device_policy``: where models go and in which dtype. ``budget_bytes``: the cache budget (default:
    half the available RAM on CPU, 80% of free VRAM on CUDA, measured on first use).
    """

    def __init__(self, device_policy: DevicePolicy, budget_bytes: int | None = None) -> None:
        self.policy = device_policy
        self._budget = budget_bytes
        self._entries: OrderedDict[Identity, _Entry] = OrderedDict()
        self._loading: dict[Identity, threading.Lock] = {}
        self._lock = threading.Lock()

    @property
    def budget_bytes(self) -> int:
        if self._budget is None:
            self._budget = self.policy.memory_budget_bytes()
        return self._budget

    def _cached(self, kind: str, path: str | os.PathLike[str], load: Callable[[], tuple[Any, int]]) -> Any:
        identity = file_identity(kind, path)
        with self._lock:
            entry = self._entries.get(identity)
            if entry is not None:
                self._entries.move_to_end(identity)
                return entry.value
            file_lock = self._loading.setdefault(identity, threading.Lock())
        with file_lock:
            with self._lock:
                entry = self._entries.get(identity)
                if entry is not None:  # another thread loaded it while we waited
                    self._entries.move_to_end(identity)
                    return entry.value
            try:
                value, nbytes = load()
            finally:
                with self._lock:
                    self._loading.pop(identity, None)
            with self._lock:
                for stale in [k for k in self._entries if k[:2] == identity[:2]]:
                    del self._entries[stale]  # an older version of the same file
                self._entries[identity] = _Entry(kind, identity[1], value, nbytes)
                self._evict(keep=identity)
            return value

    def _evict(self, keep: Identity) -> None:
        budget = self.budget_bytes
        while len(self._entries) > 1 and sum(e.nbytes for e in self._entries.values()) > budget:
            oldest = next(k for k in self._entries if k != keep)
            del self._entries[oldest]

    def _dtypes(self, num_params: int) -> tuple[torch.dtype, torch.dtype]:
        return self.policy.dtype_for(num_params, "unet"), self.policy.dtype_for(num_params, "vae")

    def load_checkpoint(self, path: str | os.PathLike[str]) -> LoadedCheckpoint:
        """MODEL, CLIP and VAE of a single-file checkpoint or a diffusers folder (cached)."""

        def load() -> tuple[LoadedCheckpoint, int]:
            if is_diffusers_folder(path):
                dtype, vae_dtype = self._dtypes(_folder_params(Path(path)))
                loaded = load_diffusers_folder(
                    path, device=self.policy.device, dtype=dtype, vae_dtype=vae_dtype
                )
            else:
                dtype, vae_dtype = self._dtypes(CheckpointFile.open(path).num_params())
                loaded = load_checkpoint(path, device=self.policy.device, dtype=dtype, vae_dtype=vae_dtype)
            return loaded, _loaded_bytes(loaded)

        return self._cached("checkpoint", path, load)

    def load_vae(self, path: str | os.PathLike[str]) -> Vae:
        """A standalone VAE file (LDM or diffusers names), cached."""

        def load() -> tuple[Vae, int]:
            dtype = self.policy.dtype_for(CheckpointFile.open(path).num_params(), "vae")
            vae = load_vae_file(path, device=self.policy.device, dtype=dtype)
            return vae, _tensor_bytes(_module_tensors(vae.vae))

        return self._cached("vae", path, load)

    def lora_tensors(self, path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
        """The raw tensors of a LoRA file (cached; pickles only with ``weights_only=True``)."""

        def load() -> tuple[dict[str, torch.Tensor], int]:
            tensors = CheckpointFile.open(path).load()
            return tensors, _tensor_bytes(tensors.values())

        return self._cached("lora", path, load)

    def load_lora(
        self,
        path: str | os.PathLike[str],
        model: DiffusionModel | None = None,
        clip: TextEncoder | None = None,
        strength_model: float = 1.0,
        strength_clip: float = 1.0,
    ) -> LoraPatches:
        """The LoRA's patches for ``model`` and ``clip`` (see :func:`~graphflow.models.lora.lora_patches`)."""
        tensors = self.lora_tensors(path)
        return lora_patches(tensors, model, clip, str(Path(path).name), strength_model, strength_clip)

    def load_embedding(self, path: str | os.PathLike[str]) -> Embedding:
        """A textual-inversion embedding (vectors ``[n, width]`` per encoder), cached."""

        def load() -> tuple[Embedding, int]:
            embedding = load_embedding_file(path)
            return embedding, _tensor_bytes(embedding.vectors.values())

        return self._cached("embedding", path, load)

    def unload_all(self) -> None:
        """Forget every cached model (handles held elsewhere stay valid)."""
        with self._lock:
            self._entries.clear()
        if self.policy.device.type == "cuda":
            torch.cuda.empty_cache()

    def stats(self) -> CacheStats:
        with self._lock:
            entries = tuple((e.kind, e.path, e.nbytes) for e in self._entries.values())
        return CacheStats(entries, sum(n for _, _, n in entries), self.budget_bytes)


def _folder_params(root: Path) -> int:
    """Parameters of a diffusers folder, from safetensors headers (``.bin`` files: size / 2)."""
    total = 0
    for file in root.rglob("*"):
        if file.suffix == ".safetensors":
            total += CheckpointFile.open(file).num_params()
        elif file.suffix == ".bin":
            total += file.stat().st_size // 2
    return total
