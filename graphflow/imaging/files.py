"""Image files on disk: listing ``input/``, ComfyUI's ``name [output]`` annotations, reading frames, and the
``prefix_00001_.png`` numbering of saved files. Every user-given name goes through ``resolve_inside``."""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from graphflow.paths import UnsafePathError, resolve_inside

if TYPE_CHECKING:
    from graphflow.paths import Paths

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".mpo")
ANNOTATION = re.compile(r"^(?P<name>.*) \[(?P<kind>input|output|temp)\]$")
EMPTY_MASK_SIZE = 64


def list_files(folder: Path, images_only: bool) -> list[str]:
    """Names of the files directly in ``folder`` (images only if asked), sorted; empty if it is missing."""
    if not folder.is_dir():
        return []
    names = [
        entry.name
        for entry in os.scandir(folder)
        if entry.is_file()
        and not entry.name.startswith(".")
        and (not images_only or entry.name.lower().endswith(IMAGE_EXTENSIONS))
    ]
    return sorted(names)


def annotated_path(paths: Paths, value: str) -> Path:
    """The file a LoadImage value names: ``name``, ``name [input]``, ``name [output]`` or ``name [temp]``.

    Raises :class:`~graphflow.paths.UnsafePathError` for names that would leave their folder.
    """
    match = ANNOTATION.match(value)
    name, kind = (match["name"], match["kind"]) if match else (value, "input")
    return resolve_inside(paths.folder(kind), name)


def existing_file(paths: Paths, value: Any) -> Path | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        path = annotated_path(paths, value)
    except UnsafePathError:
        return None
    return path if path.is_file() else None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _as_rgb_float(frame: Any) -> np.ndarray:
    """``[H, W, 3]`` float32 in 0..1; 16/32-bit single-channel images are scaled from their own range."""
    if frame.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        values = np.asarray(frame, dtype=np.float32)
        peak = 65535.0 if frame.mode != "F" and values.max(initial=0) > 255 else 255.0
        gray = np.clip(values / peak, 0.0, 1.0) if frame.mode != "F" else np.clip(values, 0.0, 1.0)
        return np.repeat(gray[..., None], 3, axis=-1)
    return np.asarray(frame.convert("RGB"), dtype=np.float32) / 255.0


def _alpha(frame: Any) -> np.ndarray | None:
    if "A" in frame.getbands():
        return np.asarray(frame.getchannel("A"), dtype=np.float32) / 255.0
    if frame.mode == "P" and "transparency" in frame.info:
        return np.asarray(frame.convert("RGBA").getchannel("A"), dtype=np.float32) / 255.0
    return None


def load_image(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """IMAGE ``[F, H, W, 3]`` and MASK ``[F, H, W]`` (1 - alpha, or 64x64 zeros without alpha).

    EXIF orientation is applied; every frame of an animated file is loaded (only the first of an MPO), and
    frames whose size differs from the first are skipped.
    """
    from PIL import Image, ImageOps, ImageSequence

    images, masks = [], []
    with Image.open(path) as opened:
        frames = [opened] if opened.format == "MPO" else ImageSequence.Iterator(opened)
        size = None
        for raw in frames:
            frame = ImageOps.exif_transpose(raw) or raw
            size = size or frame.size
            if frame.size != size:
                continue
            images.append(torch.from_numpy(_as_rgb_float(frame).copy()))
            alpha = _alpha(frame)
            masks.append(
                torch.from_numpy(1.0 - alpha)
                if alpha is not None
                else torch.zeros(EMPTY_MASK_SIZE, EMPTY_MASK_SIZE)
            )
    if len({m.shape for m in masks}) > 1:  # some frames had alpha and some not: give all full-size masks
        masks = [m if m.shape == images[0].shape[:2] else torch.zeros(images[0].shape[:2]) for m in masks]
    return torch.stack(images), torch.stack(masks)


def substitute_prefix(prefix: str, width: int, height: int) -> str:
    """Replace ``%width%``, ``%height%`` and the date parts ``%year% %month% %day% %hour% %minute% %second%``."""
    now = time.localtime()
    values = {
        "width": str(width),
        "height": str(height),
        "year": f"{now.tm_year:04d}",
        "month": f"{now.tm_mon:02d}",
        "day": f"{now.tm_mday:02d}",
        "hour": f"{now.tm_hour:02d}",
        "minute": f"{now.tm_min:02d}",
        "second": f"{now.tm_sec:02d}",
    }
    for key, value in values.items():
        prefix = prefix.replace(f"%{key}%", value)
    return prefix


def next_counter(folder: Path, base: str) -> int:
    """1 + the highest ``<base>_NNNNN_`` counter among the files in ``folder`` (1 if there are none)."""
    pattern = re.compile(re.escape(base).replace(re.escape("%batch_num%"), r"\d+") + r"_(\d{5,})_?\.")
    highest = 0
    if folder.is_dir():
        for entry in os.scandir(folder):
            found = pattern.match(entry.name)
            if found:
                highest = max(highest, int(found.group(1)))
    return highest + 1


def save_target(root: Path, prefix: str) -> tuple[Path, str, str]:
    """Split ``prefix`` into (folder inside ``root``, file base name, subfolder as shown in the UI).

    Raises :class:`~graphflow.paths.UnsafePathError` when the prefix would leave ``root``.
    """
    subfolder, _, base = prefix.replace("\\", "/").rpartition("/")
    if not base:
        raise UnsafePathError("the filename prefix must end with a file name, not a '/'")
    folder = resolve_inside(root, subfolder) if subfolder else resolve_inside(root)
    return folder, base, subfolder.strip("/")
