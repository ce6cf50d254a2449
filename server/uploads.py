"""Storing uploaded files: names checked by ``resolve_inside``, duplicates found by content hash.

Without ``overwrite``, a name that is taken keeps its file: if the content is the same the existing name is
reused and nothing is written; otherwise the upload is stored as ``name (1).ext``, ``name (2).ext``, ...
Files are written to a temporary name first and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphflow.paths import UnsafePathError, resolve_inside

MAX_NAME_LENGTH = 255


class UploadError(ValueError):
    """The upload cannot be stored; the message says why (answered as 400)."""


@dataclass(frozen=True)
class Stored:
    name: str
    subfolder: str
    type: str

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "subfolder": self.subfolder, "type": self.type}


def check_filename(name: str) -> str:
    """A plain file name: one path segment, not hidden-dot tricks, no separators or control characters."""
    if not name or len(name) > MAX_NAME_LENGTH:
        raise UploadError("the file needs a name of 1 to 255 characters")
    if "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
        raise UploadError(f"{name!r} is not a plain file name; put folders in 'subfolder'")
    if not name.isprintable():
        raise UploadError("the file name contains control characters")
    return name


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) if ``data`` is an image Pillow recognises (headers only, nothing decoded)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def check_pixels(data: bytes, max_pixels: int) -> None:
    size = image_size(data)
    if size is not None and size[0] * size[1] > max_pixels:
        raise UploadError(
            f"the image is {size[0]}×{size[1]} pixels; at most {max_pixels} pixels are accepted"
        )


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _file_digest(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.digest()


def _numbered(name: str, index: int) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return f"{name} ({index})"
    return f"{stem} ({index}).{ext}"


def store_upload(root: Path, subfolder: str, name: str, data: bytes, *, overwrite: bool, kind: str) -> Stored:
    """Write ``data`` as ``root/subfolder/name`` (see the module docstring for name clashes)."""
    check_filename(name)
    try:
        folder = resolve_inside(root, subfolder)
    except UnsafePathError as error:
        raise UploadError(f"subfolder {subfolder!r} is not allowed: {error}") from None
    if folder.exists() and not folder.is_dir():
        raise UploadError(f"subfolder {subfolder!r} is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    chosen = name
    target = resolve_inside(folder, chosen)
    if not overwrite:
        digest = _digest(data)
        index = 1
        while target.exists():
            if target.is_file() and _file_digest(target) == digest:
                return Stored(chosen, subfolder, kind)
            chosen = _numbered(name, index)
            check_filename(chosen)
            target = resolve_inside(folder, chosen)
            index += 1
    elif target.exists() and not target.is_file():
        raise UploadError(f"{name!r} is a folder")
    _write_atomically(target, data)
    return Stored(chosen, subfolder, kind)


def _write_atomically(target: Path, data: bytes) -> None:
    temporary = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        with temporary.open("wb") as handle:
            handle.write(data)
        os.replace(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()


def parse_original_ref(text: str) -> dict[str, str]:
    """``original_ref`` of ``/upload/mask``: a JSON string naming the image the mask belongs to."""
    try:
        ref = json.loads(text)
    except ValueError:
        raise UploadError('original_ref must be JSON: {"filename", "subfolder", "type"}') from None
    if not isinstance(ref, dict) or not isinstance(ref.get("filename"), str):
        raise UploadError("original_ref must name the original image's filename")
    for key in ("subfolder", "type"):
        if key in ref and not isinstance(ref[key], str):
            raise UploadError(f"original_ref.{key} must be a string")
    return ref


def apply_mask(original_path: Path, mask_data: bytes, max_pixels: int) -> bytes:
    """The original image with the uploaded image's alpha channel as its alpha, as PNG bytes.

    PNG text chunks of the original (workflow metadata) are kept.
    """
    from PIL import Image, PngImagePlugin, UnidentifiedImageError

    check_pixels(mask_data, max_pixels)
    try:
        with Image.open(original_path) as original:
            if original.size[0] * original.size[1] > max_pixels:
                raise UploadError("the original image is larger than the pixel limit")
            texts: dict[str, Any] = dict(getattr(original, "text", {}) or {})
            base = original.convert("RGBA")
        with Image.open(io.BytesIO(mask_data)) as mask_image:
            alpha = mask_image.convert("RGBA").getchannel("A")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise UploadError(f"cannot read the image: {error}") from None
    if alpha.size != base.size:
        alpha = alpha.resize(base.size)
    base.putalpha(alpha)
    info = PngImagePlugin.PngInfo()
    for key, value in texts.items():
        if isinstance(value, str):
            info.add_text(key, value)
    buffer = io.BytesIO()
    base.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()
