"""Where graphflow reads and writes files, and the one helper that keeps user paths inside their root.

Every user-supplied path (``/view`` and ``/upload`` requests, LoadImage names, SaveImage prefixes, user
data) goes through :func:`resolve_inside`, which resolves symlinks and ``..`` *before* checking
containment. Nothing here creates directories at import time; :meth:`Paths.ensure` does it on request.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

FOLDER_KINDS = ("input", "output", "temp")
EXAMPLE_INPUTS = Path(__file__).resolve().parent / "data" / "inputs"


class UnsafePathError(ValueError):
    """A user-supplied path is malformed or points outside the folder it must stay in."""


def resolve_inside(root: str | os.PathLike[str], *parts: str) -> Path:
    """Join ``parts`` onto ``root`` and return the real path, refusing anything outside ``root``.

    Refused: empty or absolute parts, drive letters, backslashes, NUL and other control characters, and
    any result whose real path (symlinks resolved) is not ``root`` itself or below it.
    """
    real_root = Path(os.path.realpath(root))
    pieces: list[str] = []
    for part in parts:
        if part is None:
            continue
        if not isinstance(part, str):
            raise UnsafePathError(f"path part must be text, got {type(part).__name__}")
        if any(ord(ch) < 32 or ch == "\x7f" for ch in part):
            raise UnsafePathError("path contains a control character")
        if "\\" in part:
            raise UnsafePathError("path contains a backslash; use '/' to separate folders")
        if part.startswith("/") or (len(part) > 1 and part[0].isalpha() and part[1] == ":"):
            raise UnsafePathError(f"absolute paths are not allowed: {part!r}")
        pieces.extend(p for p in part.split("/") if p not in ("", "."))
    if any(p == ".." for p in pieces):
        raise UnsafePathError("'..' is not allowed in paths")
    candidate = Path(os.path.realpath(real_root.joinpath(*pieces)))
    if candidate != real_root and real_root not in candidate.parents:
        raise UnsafePathError("path leads outside its folder")
    return candidate


@dataclass(frozen=True)
class Paths:
    """The folders of one graphflow installation.

    ``base`` holds ``input/``, ``output/``, ``temp/``, ``user/``, ``models/`` and ``custom_nodes/`` unless
    a folder is given explicitly.
    """

    base: Path
    input_dir: Path | None = None
    output_dir: Path | None = None
    temp_dir: Path | None = None
    user_dir: Path | None = None
    models_dir: Path | None = None
    extra_model_paths: tuple[Path, ...] = field(default_factory=tuple)

    @classmethod
    def at(cls, base: str | os.PathLike[str], **overrides: Path | None) -> Paths:
        return cls(base=Path(base).expanduser().resolve(), **overrides)

    @property
    def input(self) -> Path:
        return self.input_dir or self.base / "input"

    @property
    def output(self) -> Path:
        return self.output_dir or self.base / "output"

    @property
    def temp(self) -> Path:
        return self.temp_dir or self.base / "temp"

    @property
    def user(self) -> Path:
        return self.user_dir or self.base / "user"

    @property
    def models(self) -> Path:
        return self.models_dir or self.base / "models"

    @property
    def custom_nodes(self) -> Path:
        return self.base / "custom_nodes"

    def folder(self, kind: str) -> Path:
        """The root for a ``/view``-style folder type: ``input``, ``output`` or ``temp``."""
        if kind not in FOLDER_KINDS:
            raise UnsafePathError(f"unknown folder type {kind!r}; expected one of {', '.join(FOLDER_KINDS)}")
        return getattr(self, kind)

    def ensure(self) -> Paths:
        """Create the working folders (called by the CLI and server at start, never on import).

        ``input/`` gets graphflow's example images the first time, so the shipped img2img and inpainting
        workflows run as they are; a file the user put there under the same name is never overwritten.
        """
        for path in (self.input, self.output, self.temp, self.user):
            path.mkdir(parents=True, exist_ok=True)
        if EXAMPLE_INPUTS.is_dir():
            for example in EXAMPLE_INPUTS.iterdir():
                target = self.input / example.name
                if example.suffix == ".png" and not target.exists():
                    shutil.copyfile(example, target)
        return self
