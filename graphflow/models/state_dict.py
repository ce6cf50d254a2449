"""Reading model files: shapes and metadata without the data, tensors when asked.

``.safetensors`` files are opened lazily: :meth:`CheckpointFile.open` reads only the JSON header, so
detection and config inference work on shapes alone. Pickled torch files (``.ckpt``, ``.pt``, ``.pth``,
``.bin``) are read only with ``torch.load(weights_only=True)``, which refuses anything but tensors and
plain containers; a Lightning checkpoint that pickles Python objects is refused with an explanation.
"""

from __future__ import annotations

import json
import os
import re
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from graphflow.models.errors import ModelFileError

Shapes = dict[str, tuple[int, ...]]
FileFormat = Literal["safetensors", "torch"]

_MAX_HEADER_BYTES = 100 * 1024 * 1024


def shapes_of(state_dict: Mapping[str, Any]) -> Shapes:
    """Shapes of a state dict whose values are tensors (real or meta) or plain shape sequences."""
    out: Shapes = {}
    for key, value in state_dict.items():
        shape = getattr(value, "shape", value)
        out[key] = tuple(int(n) for n in shape)
    return out


def _sniff_format(path: Path) -> FileFormat:
    with path.open("rb") as handle:
        head = handle.read(9)
    if len(head) == 9 and head[8:9] == b"{":
        (header_len,) = struct.unpack("<Q", head[:8])
        if 0 < header_len < _MAX_HEADER_BYTES:
            return "safetensors"
    if head[:2] == b"PK" or head[:1] == b"\x80":  # torch zip archive, or a legacy raw pickle
        return "torch"
    raise ModelFileError(
        f"{path.name}: not a model file graphflow can read (neither safetensors nor a torch archive). "
        "Check that the download finished and that the file is a checkpoint."
    )


def _read_safetensors_header(path: Path) -> tuple[Shapes, dict[str, str], dict[str, str]]:
    """(shapes, dtypes, metadata) from the safetensors JSON header; reads no tensor data."""
    with path.open("rb") as handle:
        (header_len,) = struct.unpack("<Q", handle.read(8))
        raw = handle.read(header_len)
    if len(raw) != header_len:
        raise ModelFileError(f"{path.name}: the safetensors header is truncated; the file is incomplete.")
    try:
        header = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path.name}: the safetensors header is not valid JSON ({exc}).") from exc
    metadata = header.pop("__metadata__", None) or {}
    shapes = {key: tuple(int(n) for n in info["shape"]) for key, info in header.items()}
    dtypes = {key: str(info["dtype"]) for key, info in header.items()}
    return shapes, dtypes, {str(k): str(v) for k, v in metadata.items()}


_UNSUPPORTED_GLOBAL = re.compile(r"(?:Unsupported global|GLOBAL)\s*:?\s*(?:GLOBAL\s+)?([\w.]+)")


def _refusal_message(path: Path, error: Exception) -> str:
    found = _UNSUPPORTED_GLOBAL.search(str(error))
    what = f" (it references the Python object {found.group(1)!r})" if found else ""
    return (
        f"{path.name}: this pickled checkpoint contains Python objects besides tensors{what}, typically a "
        "PyTorch Lightning training checkpoint. graphflow loads pickles only with "
        "torch.load(weights_only=True), because unpickling arbitrary objects can run code hidden in the "
        "file. Convert it once to .safetensors with a tool you trust, in an environment you trust, e.g.:\n"
        '  python -c "import torch, safetensors.torch as st; '
        f"sd = torch.load('{path.name}', weights_only=False, map_location='cpu'); "
        "sd = sd.get('state_dict', sd); "
        "st.save_file({k: v.contiguous() for k, v in sd.items() if isinstance(v, torch.Tensor)}, "
        f"'{path.stem}.safetensors')\"\n"
        "or download the .safetensors version of the model."
    )


def _torch_load(path: Path) -> dict[str, torch.Tensor]:
    import pickle

    try:
        try:
            loaded = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as exc:
            if "mmap" not in str(exc):
                raise
            loaded = torch.load(path, map_location="cpu", weights_only=True)  # legacy non-zip format
    except pickle.UnpicklingError as exc:
        raise ModelFileError(_refusal_message(path, exc)) from None
    except (RuntimeError, EOFError, OSError) as exc:
        raise ModelFileError(
            f"{path.name}: cannot read this torch file ({exc}). It may be truncated."
        ) from exc
    if isinstance(loaded, Mapping) and isinstance(loaded.get("state_dict"), Mapping):
        loaded = loaded["state_dict"]
    if not isinstance(loaded, Mapping):
        raise ModelFileError(f"{path.name}: expected a dictionary of tensors, found {type(loaded).__name__}.")
    return {str(k): v for k, v in loaded.items() if isinstance(v, torch.Tensor)}


@dataclass
class CheckpointFile:
    """One model file, opened lazily.

    ``shapes`` maps every tensor name to its shape; ``metadata`` is the safetensors ``__metadata__``
    (always ``{}`` for torch files). Tensor data is read only by :meth:`get` and :meth:`load`.
    """

    path: Path
    format: FileFormat
    shapes: Shapes
    dtypes: dict[str, str]
    metadata: dict[str, str]
    _tensors: dict[str, torch.Tensor] | None = field(default=None, repr=False)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> CheckpointFile:
        """Read the header (safetensors) or the pickled dictionary (torch, weights only)."""
        path = Path(path)
        if not path.is_file():
            raise ModelFileError(f"{path}: no such file.")
        fmt = _sniff_format(path)
        if fmt == "safetensors":
            shapes, dtypes, metadata = _read_safetensors_header(path)
            return cls(path, fmt, shapes, dtypes, metadata)
        tensors = _torch_load(path)
        shapes = {k: tuple(v.shape) for k, v in tensors.items()}
        dtypes = {k: str(v.dtype).removeprefix("torch.") for k, v in tensors.items()}
        return cls(path, fmt, shapes, dtypes, {}, tensors)

    def keys(self) -> list[str]:
        return list(self.shapes)

    def __contains__(self, key: object) -> bool:
        return key in self.shapes

    def num_params(self, prefixes: Sequence[str] | None = None) -> int:
        """Number of elements in all tensors, or only in those whose names start with ``prefixes``."""
        total = 0
        for key, shape in self.shapes.items():
            if prefixes is None or key.startswith(tuple(prefixes)):
                count = 1
                for n in shape:
                    count *= n
                total += count
        return total

    def get(self, key: str) -> torch.Tensor:
        """One tensor, read from disk on demand."""
        if key not in self.shapes:
            raise KeyError(f"{self.path.name} has no tensor {key!r}")
        if self._tensors is not None:
            return self._tensors[key]
        from safetensors import safe_open

        with safe_open(str(self.path), framework="pt") as handle:
            return handle.get_tensor(key)

    def load(
        self,
        keys: Iterable[str] | None = None,
        dtype: torch.dtype | Callable[[str], torch.dtype | None] | None = None,
    ) -> dict[str, torch.Tensor]:
        """Read tensors (all, or only ``keys``) into memory.

        ``dtype``: cast floating-point tensors to this dtype, or to ``dtype(key)`` when it is a callable
        (``None`` keeps the stored dtype). The result never aliases the file through a memory map, so a
        checkpoint overwritten on disk while loaded cannot change (or crash) the model read from it.
        """
        wanted = list(self.shapes) if keys is None else [k for k in keys if k in self.shapes]
        target = dtype if callable(dtype) else (lambda _key: dtype)
        targets = {key: target(key) for key in wanted}
        if self._tensors is not None:
            source: Mapping[str, torch.Tensor] = self._tensors
        else:
            import safetensors.torch

            needs_cast = any(
                t is not None
                and (self.dtypes[k].startswith("F8") or _SAFETENSORS_DTYPES.get(self.dtypes[k], t) != t)
                for k, t in targets.items()
            )
            # Without casts, reading every tensor is one pread pass. Otherwise (or for a subset) the lazy
            # map is cheaper: each wanted tensor is read once, straight into its cast or cloned copy.
            backend = "pread" if not needs_cast and len(wanted) == len(self.shapes) else "mmap"
            try:
                source = safetensors.torch.load_file(str(self.path), backend=backend)
            except Exception as exc:  # safetensors raises its own error type for corrupt files
                raise ModelFileError(f"{self.path.name}: cannot read tensors ({exc}).") from exc
            if backend == "pread":
                return source
        out: dict[str, torch.Tensor] = {}
        for key in wanted:
            tensor, cast = source[key], targets[key]
            if cast is not None and tensor.is_floating_point() and tensor.dtype != cast:
                out[key] = tensor.to(cast)
            else:
                out[key] = tensor.clone()
        return out


_SAFETENSORS_DTYPES: dict[str, torch.dtype] = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
}
