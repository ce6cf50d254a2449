"""Stand-in for ComfyUI's ``folder_paths``, backed by the folders of the current graphflow installation.

Provided: the input/output/temp/user directories (functions and the ``*_directory`` / ``models_dir`` /
``base_path`` attributes), model folders and file lists (``get_folder_paths``, ``get_filename_list``,
``get_full_path[_or_raise]``), folder kinds a pack registers (``add_model_folder_path``,
``folder_names_and_paths[kind] = ([dirs], {exts})``), annotated names (``"x.png [output]"``) and
``get_save_image_path``. Paths are strings, as in ComfyUI. "Current installation" is the runtime of the
node whose code is running, or the folders being loaded while packs import.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

from graphflow.paths import UnsafePathError, resolve_inside
from graphflow.plugins.compat.missing import not_provided
from graphflow.plugins.current import Installation, current_installation

supported_pt_extensions: set[str] = {".ckpt", ".pt", ".pt2", ".bin", ".pth", ".safetensors", ".pkl", ".sft"}
_LEGACY = {"clip": "text_encoders", "unet": "diffusion_models"}
# ComfyUI's model folder kinds (``GET /models``), used when graphflow's model layer is not installed.
_DEFAULT_KINDS = (
    "checkpoints", "configs", "loras", "vae", "text_encoders", "diffusion_models", "clip_vision",
    "style_models", "embeddings", "diffusers", "vae_approx", "controlnet", "gligen", "upscale_models",
    "custom_nodes", "hypernetworks", "photomaker", "classifiers", "model_patches", "audio_encoders",
)  # fmt: skip
_DIRECTORY_ATTRIBUTES = {
    "base_path": lambda inst: inst.paths.base,
    "models_dir": lambda inst: inst.paths.models,
    "output_directory": lambda inst: inst.paths.output,
    "temp_directory": lambda inst: inst.paths.temp,
    "input_directory": lambda inst: inst.paths.input,
    "user_directory": lambda inst: inst.paths.user,
}


def _installation() -> Installation:
    found = current_installation()
    if found is None:
        raise RuntimeError(
            "folder_paths was used outside a graphflow runtime (no node pack is loading or running)"
        )
    return found


def map_legacy(folder_name: str) -> str:
    return _LEGACY.get(folder_name, folder_name)


class _FolderTable(MutableMapping[str, tuple[list[str], set[str]]]):
    """``folder_names_and_paths``: kinds packs registered, over the installation's own model folders."""

    def __init__(self) -> None:
        self._registered: dict[str, tuple[list[str], set[str]]] = {}

    def _builtin_folders(self, kind: str) -> list[str]:
        installation = current_installation()
        if installation is None:
            return []
        folders = installation.model_folders
        if folders is not None and hasattr(folders, "folders"):
            try:
                return [str(path) for path in folders.folders(kind)]
            except (KeyError, ValueError, LookupError):
                pass
        return [str(installation.paths.models / kind)]

    def _builtin_kinds(self) -> list[str]:
        installation = current_installation()
        folders = installation.model_folders if installation is not None else None
        if folders is not None and hasattr(folders, "kinds"):
            kinds = folders.kinds  # a property of graphflow.models.folders.ModelFolders
            return list(kinds() if callable(kinds) else kinds)
        return list(_DEFAULT_KINDS) if installation is not None else []

    def __getitem__(self, kind: str) -> tuple[list[str], set[str]]:
        kind = map_legacy(kind)
        registered = self._registered.get(kind)
        builtin = self._builtin_folders(kind) if kind in self._builtin_kinds() else []
        if registered is None:
            if not builtin:
                raise KeyError(kind)
            return builtin, set(supported_pt_extensions)
        folders = list(registered[0]) + [f for f in builtin if f not in registered[0]]
        return folders, registered[1]

    def __setitem__(self, kind: str, value: tuple[Iterable[str], Iterable[str]]) -> None:
        folders, extensions = value
        self._registered[map_legacy(kind)] = ([str(f) for f in folders], set(extensions))

    def __delitem__(self, kind: str) -> None:
        del self._registered[map_legacy(kind)]

    def __iter__(self) -> Iterator[str]:
        yield from dict.fromkeys([*self._builtin_kinds(), *self._registered])

    def __len__(self) -> int:
        return len(list(iter(self)))


folder_names_and_paths = _FolderTable()


def get_input_directory() -> str:
    return str(_installation().paths.input)


def get_output_directory() -> str:
    return str(_installation().paths.output)


def get_temp_directory() -> str:
    return str(_installation().paths.temp)


def get_user_directory() -> str:
    return str(_installation().paths.user)


def get_directory_by_type(type_name: str) -> str | None:
    return {"input": get_input_directory, "output": get_output_directory, "temp": get_temp_directory}.get(
        type_name, lambda: None
    )()


def add_model_folder_path(folder_name: str, full_folder_path: str, is_default: bool = False) -> None:
    """Search ``full_folder_path`` for ``folder_name`` files too (first when ``is_default``)."""
    kind = map_legacy(folder_name)
    folders, extensions = folder_names_and_paths._registered.get(kind, ([], set(supported_pt_extensions)))
    folders = [f for f in folders if f != full_folder_path]
    folders.insert(0, full_folder_path) if is_default else folders.append(full_folder_path)
    folder_names_and_paths._registered[kind] = (folders, extensions)


def get_folder_paths(folder_name: str) -> list[str]:
    try:
        return list(folder_names_and_paths[folder_name][0])
    except KeyError:
        return []


def filter_files_extensions(files: Iterable[str], extensions: Iterable[str]) -> list[str]:
    """Files whose extension is in ``extensions`` (all files when ``extensions`` is empty)."""
    wanted = {ext.lower() for ext in extensions}
    return sorted(f for f in files if not wanted or os.path.splitext(f)[1].lower() in wanted)


def _walk(folder: str) -> Iterator[str]:
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel_root = os.path.relpath(root, folder)
        for name in files:
            rel = name if rel_root == "." else f"{rel_root}/{name}"
            yield rel.replace(os.sep, "/")


def get_filename_list(folder_name: str) -> list[str]:
    """Model files of a kind, as names relative to their folder (``"sub/x.safetensors"``), sorted."""
    try:
        folders, extensions = folder_names_and_paths[folder_name]
    except KeyError:
        return []
    names: dict[str, None] = {}
    for folder in folders:
        if os.path.isdir(folder):
            names.update(dict.fromkeys(filter_files_extensions(_walk(folder), extensions)))
    return sorted(names)


def get_full_path(folder_name: str, filename: str) -> str | None:
    for folder in get_folder_paths(folder_name):
        try:
            candidate = resolve_inside(folder, filename)
        except UnsafePathError:
            return None
        if candidate.is_file():
            return str(candidate)
    return None


def get_full_path_or_raise(folder_name: str, filename: str) -> str:
    found = get_full_path(folder_name, filename)
    if found is None:
        raise FileNotFoundError(f"Model in folder '{folder_name}' with filename '{filename}' not found.")
    return found


def annotated_filepath(name: str) -> tuple[str, str | None]:
    """Split ``"x.png [output]"`` into the name and the folder its annotation names."""
    for suffix, directory in ((" [output]", get_output_directory), (" [input]", get_input_directory)):
        if name.endswith(suffix):
            return name[: -len(suffix)], directory()
    if name.endswith(" [temp]"):
        return name[: -len(" [temp]")], get_temp_directory()
    return name, None


def get_annotated_filepath(name: str, default_dir: str | None = None) -> str:
    name, base_dir = annotated_filepath(name)
    base_dir = base_dir or default_dir or get_input_directory()
    return str(resolve_inside(base_dir, name))


def exists_annotated_filepath(name: str) -> bool:
    try:
        return os.path.exists(get_annotated_filepath(name))
    except UnsafePathError:
        return False


def get_save_image_path(
    filename_prefix: str, output_dir: str, image_width: int = 0, image_height: int = 0
) -> tuple[str, str, int, str, str]:
    """Where to save the next image for a prefix: ``(folder, file stem, counter, subfolder, prefix)``.

    ``%width%`` / ``%height%`` in the prefix are replaced; a prefix may name a subfolder (``"run1/img"``)
    but not leave ``output_dir``. The counter continues after the highest ``<stem>_NNNNN_*`` file present.
    """
    filename_prefix = filename_prefix.replace("%width%", str(image_width)).replace(
        "%height%", str(image_height)
    )
    normalized = posixpath.normpath(filename_prefix.replace("\\", "/"))
    subfolder, filename = posixpath.split(normalized)
    try:
        folder = resolve_inside(output_dir, subfolder) if subfolder else Path(os.path.realpath(output_dir))
    except UnsafePathError as error:
        raise ValueError(
            f"Saving image outside the output folder is not allowed (prefix {filename_prefix!r}: {error})"
        ) from error
    pattern = re.compile(re.escape(filename) + r"_(\d+)_")
    counter = 0
    if folder.is_dir():
        for entry in os.listdir(folder):
            match = pattern.match(entry)
            if match:
                counter = max(counter, int(match.group(1)))
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder), filename, counter + 1, subfolder, filename_prefix


def __getattr__(name: str) -> Any:
    if name in _DIRECTORY_ATTRIBUTES:
        return str(_DIRECTORY_ATTRIBUTES[name](_installation()))
    raise not_provided("folder_paths", name)
