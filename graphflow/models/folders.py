"""Model folders: which files the loader nodes offer, and where a chosen name lives.

Search order for a kind: ``<models>/<kind>/`` (ComfyUI's default layout), then the folders of each
``extra_model_paths.yaml`` (sections marked ``is_default: true`` go first), then folders passed as
``extra``, and finally graphflow's built-in folders (``graphflow/data/checkpoints/`` ships the demo
checkpoint, so a fresh install finds a model with no configuration).

``extra_model_paths.yaml`` is ComfyUI's format::

    comfyui:                     # any section name
        base_path: ~/ComfyUI/    # relative paths are relative to the YAML file
        is_default: true         # optional: search these folders first
        checkpoints: models/checkpoints/
        loras: |                 # several folders: one per line
            models/loras
            models/lycoris
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from graphflow.models.errors import ModelFileError, ModelNotFoundError
from graphflow.paths import Paths, resolve_inside

MODEL_FOLDER_KINDS: tuple[str, ...] = (
    "checkpoints",
    "configs",
    "loras",
    "vae",
    "text_encoders",
    "diffusion_models",
    "clip_vision",
    "style_models",
    "embeddings",
    "diffusers",
    "vae_approx",
    "controlnet",
    "gligen",
    "upscale_models",
    "custom_nodes",
    "hypernetworks",
    "photomaker",
    "classifiers",
    "model_patches",
    "audio_encoders",
)
"""The folder keys of ComfyUI's ``GET /models``, in its order."""

MODEL_EXTENSIONS: tuple[str, ...] = (".safetensors", ".ckpt", ".pt", ".pth", ".bin")
CONFIG_EXTENSIONS: tuple[str, ...] = (".yaml", ".yml", ".json")
LEGACY_KEYS = {"clip": "text_encoders", "unet": "diffusion_models", "t2i_adapter": "controlnet"}
BUILTIN_DATA = Path(__file__).resolve().parent.parent / "data"
BUILTIN_FOLDERS: Mapping[str, tuple[Path, ...]] = {"checkpoints": (BUILTIN_DATA / "checkpoints",)}


def _expand(text: str) -> str:
    return os.path.expandvars(os.path.expanduser(text.strip()))


def parse_extra_model_paths(
    path: str | os.PathLike[str],
) -> tuple[dict[str, list[Path]], dict[str, list[Path]]]:
    """Read one ``extra_model_paths.yaml``: ``(first, last)`` folder lists per kind, where ``first`` holds
    the sections marked ``is_default: true``."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ModelFileError(f"{path}: cannot read the extra model paths file ({exc}).") from exc
    if not isinstance(data, dict):
        raise ModelFileError(f"{path}: expected sections of folder settings at the top level.")
    first: dict[str, list[Path]] = {}
    last: dict[str, list[Path]] = {}
    for section_name, section in data.items():
        if section is None:
            continue
        if not isinstance(section, dict):
            raise ModelFileError(f"{path}: section {section_name!r} must map folder kinds to paths.")
        base = path.parent
        if section.get("base_path"):
            base = path.parent / _expand(str(section["base_path"]))
        target = first if section.get("is_default") else last
        for key, value in section.items():
            if key in ("base_path", "is_default") or value is None:
                continue
            kind = LEGACY_KEYS.get(str(key), str(key))
            for line in str(value).splitlines():
                if line.strip():
                    target.setdefault(kind, []).append(Path(os.path.normpath(base / _expand(line))))
    return first, last


class ModelFolders:
    """The model folders of one installation.

    ``paths``: the installation (``paths.models`` holds the default folders; ``paths.extra_model_paths``
    lists YAML files to read). ``extra``: more folders per kind, searched after the YAML ones.
    ``extra_configs``: more ``extra_model_paths.yaml`` files (e.g. from ``--extra-model-paths-config``).
    ``builtin``: whether to search graphflow's own data folders last.
    """

    def __init__(
        self,
        paths: Paths,
        extra: Mapping[str, Sequence[str | os.PathLike[str]]] | None = None,
        *,
        extra_configs: Iterable[str | os.PathLike[str]] = (),
        builtin: bool = True,
    ) -> None:
        folders: dict[str, list[Path]] = {kind: [] for kind in MODEL_FOLDER_KINDS}
        first: dict[str, list[Path]] = {}
        last: dict[str, list[Path]] = {}
        for yaml_path in (*paths.extra_model_paths, *extra_configs):
            yaml_first, yaml_last = parse_extra_model_paths(yaml_path)
            for source, into in ((yaml_first, first), (yaml_last, last)):
                for kind, dirs in source.items():
                    into.setdefault(kind, []).extend(dirs)
        for kind in set(folders) | set(first) | set(last) | set(extra or {}):
            default = paths.custom_nodes if kind == "custom_nodes" else paths.models / kind
            ordered = [*first.get(kind, []), default, *last.get(kind, [])]
            ordered += [Path(p) for p in (extra or {}).get(kind, ())]
            if builtin:
                ordered += list(BUILTIN_FOLDERS.get(kind, ()))
            unique: list[Path] = []
            for folder in ordered:
                if folder not in unique:
                    unique.append(folder)
            folders[kind] = unique
        self._folders = folders

    @property
    def kinds(self) -> list[str]:
        """Known folder kinds: ComfyUI's, in its order, then any extra kinds from configuration."""
        return [*MODEL_FOLDER_KINDS, *sorted(k for k in self._folders if k not in MODEL_FOLDER_KINDS)]

    def folders(self, kind: str) -> list[Path]:
        """The folders searched for ``kind``, in order (they need not exist)."""
        if kind not in self._folders:
            raise KeyError(f"unknown model folder kind {kind!r}; known: {', '.join(self.kinds)}")
        return list(self._folders[kind])

    def list(self, kind: str) -> list[str]:
        """Relative names (``/``-separated) of the models of ``kind`` in all its folders, sorted.

        Files with a model extension, searched recursively; for ``diffusers``, folders that hold a
        ``model_index.json``; for ``configs``, YAML/JSON files. A name found in two folders is listed once.
        """
        names: set[str] = set()
        for folder in self.folders(kind):
            names.update(_scan(folder, kind))
        return sorted(names)

    def resolve(self, kind: str, name: str) -> Path:
        """The path of model ``name`` of ``kind``: the first folder that has it.

        Names are checked by :func:`~graphflow.paths.resolve_inside` (no ``..``, no absolute paths, no
        escaping symlinks). Raises :class:`ModelNotFoundError` naming the searched folders.
        """
        searched = self.folders(kind)
        for folder in searched:
            if not folder.is_dir():
                continue
            candidate = resolve_inside(folder, name)
            if _matches(candidate, kind):
                return candidate
        where = ", ".join(str(f) for f in searched)
        raise ModelNotFoundError(
            f"model {name!r} was not found in the {kind!r} folders ({where}). Put the file in one of them "
            "or add a folder with extra_model_paths.yaml."
        )


def _matches(path: Path, kind: str) -> bool:
    if kind == "diffusers":
        return (path / "model_index.json").is_file()
    return path.is_file() and path.suffix.lower() in _extensions(kind)


def _extensions(kind: str) -> tuple[str, ...]:
    return CONFIG_EXTENSIONS if kind == "configs" else MODEL_EXTENSIONS


def _scan(folder: Path, kind: str) -> Iterator[str]:
    if not folder.is_dir():
        return
    root = os.path.realpath(folder)
    visited: set[str] = set()
    extensions = _extensions(kind)
    for current, dirs, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(current)
        if real in visited or not (real == root or real.startswith(root + os.sep)):
            dirs[:] = []  # a symlink loop, or a link leading outside the folder
            continue
        visited.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        relative = os.path.relpath(current, folder)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        if kind == "diffusers":
            if "model_index.json" in files and prefix:
                yield prefix.rstrip("/")
                dirs[:] = []
            continue
        for file in files:
            if not file.startswith(".") and file.lower().endswith(extensions):
                yield prefix + file
