"""Model folders: default layout, extra_model_paths.yaml, listing, resolving, built-in folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphflow.models.errors import ModelNotFoundError
from graphflow.models.folders import BUILTIN_DATA, MODEL_FOLDER_KINDS, ModelFolders, parse_extra_model_paths
from graphflow.paths import Paths, UnsafePathError


def _touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_kinds_are_comfyuis_in_order(tmp_path: Path) -> None:
    folders = ModelFolders(Paths.at(tmp_path))
    assert folders.kinds[: len(MODEL_FOLDER_KINDS)] == list(MODEL_FOLDER_KINDS)
    assert folders.list("gligen") == []  # known, empty by default
    assert folders.folders("custom_nodes")[0] == tmp_path.resolve() / "custom_nodes"


def test_list_is_recursive_sorted_and_filtered(tmp_path: Path) -> None:
    base = tmp_path / "models" / "checkpoints"
    for name in (
        "b.safetensors",
        "a.ckpt",
        "sub/c.pt",
        "sub/deeper/d.pth",
        "e.bin",
        "notes.txt",
        ".hidden/x.safetensors",
    ):
        _touch(base / name)
    folders = ModelFolders(Paths.at(tmp_path), builtin=False)
    assert folders.list("checkpoints") == ["a.ckpt", "b.safetensors", "e.bin", "sub/c.pt", "sub/deeper/d.pth"]
    assert folders.resolve("checkpoints", "sub/c.pt") == (base / "sub" / "c.pt").resolve()


def test_diffusers_kind_lists_model_folders(tmp_path: Path) -> None:
    root = tmp_path / "models" / "diffusers"
    _touch(root / "tiny-sd" / "model_index.json", b"{}")
    _touch(root / "tiny-sd" / "unet" / "diffusion_pytorch_model.safetensors")
    _touch(root / "group" / "other" / "model_index.json", b"{}")
    _touch(root / "not-a-model" / "readme.md")
    folders = ModelFolders(Paths.at(tmp_path), builtin=False)
    assert folders.list("diffusers") == ["group/other", "tiny-sd"]
    assert folders.resolve("diffusers", "tiny-sd") == (root / "tiny-sd").resolve()
    with pytest.raises(ModelNotFoundError):
        folders.resolve("diffusers", "not-a-model")


def test_missing_model_names_the_searched_folders(tmp_path: Path) -> None:
    folders = ModelFolders(Paths.at(tmp_path), builtin=False)
    with pytest.raises(ModelNotFoundError) as err:
        folders.resolve("loras", "missing.safetensors")
    assert "missing.safetensors" in str(err.value)
    assert str(tmp_path.resolve() / "models" / "loras") in str(err.value)


def test_names_cannot_escape_their_folder(tmp_path: Path) -> None:
    _touch(tmp_path / "models" / "vae" / "ok.safetensors")
    _touch(tmp_path / "secret.safetensors")
    folders = ModelFolders(Paths.at(tmp_path), builtin=False)
    with pytest.raises(UnsafePathError):
        folders.resolve("vae", "../../secret.safetensors")
    with pytest.raises(UnsafePathError):
        folders.resolve("vae", "/etc/passwd")


YAML = """
comfyui:
    base_path: comfy/
    is_default: true
    checkpoints: models/checkpoints/
    clip: models/clip/
a111:
    base_path: webui
    checkpoints: models/Stable-diffusion
    vae: models/VAE
    loras: |
        models/Lora
        models/LyCORIS
    embeddings: embeddings
    controlnet:
other:
    loras: /abs/loras
"""


def test_extra_model_paths_yaml(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "extra_model_paths.yaml"
    config.parent.mkdir()
    config.write_text(YAML)
    first, last = parse_extra_model_paths(config)
    conf = tmp_path / "conf"
    assert first == {
        "checkpoints": [conf / "comfy" / "models" / "checkpoints"],
        "text_encoders": [conf / "comfy" / "models" / "clip"],  # legacy key "clip"
    }
    assert last["loras"] == [
        conf / "webui" / "models" / "Lora",
        conf / "webui" / "models" / "LyCORIS",
        Path("/abs/loras"),
    ]
    assert last["embeddings"] == [conf / "webui" / "embeddings"]
    assert "controlnet" not in last  # an empty value adds nothing


def test_yaml_order_and_lookup(tmp_path: Path) -> None:
    config = tmp_path / "extra_model_paths.yaml"
    config.write_text(YAML)
    base = tmp_path / "base"
    _touch(tmp_path / "comfy" / "models" / "checkpoints" / "shared.safetensors", b"comfy")
    _touch(base / "models" / "checkpoints" / "shared.safetensors", b"default")
    _touch(tmp_path / "webui" / "models" / "Stable-diffusion" / "only-webui.safetensors")
    _touch(tmp_path / "webui" / "models" / "LyCORIS" / "style.safetensors")
    folders = ModelFolders(Paths.at(base, extra_model_paths=(config,)), builtin=False)
    checkpoint_dirs = folders.folders("checkpoints")
    assert checkpoint_dirs[0] == tmp_path / "comfy" / "models" / "checkpoints"  # is_default goes first
    assert checkpoint_dirs[1] == base.resolve() / "models" / "checkpoints"
    assert folders.list("checkpoints") == ["only-webui.safetensors", "shared.safetensors"]
    assert folders.resolve("checkpoints", "shared.safetensors").read_bytes() == b"comfy"
    assert folders.list("loras") == ["style.safetensors"]


def test_extra_folders_argument_and_builtin_last(tmp_path: Path) -> None:
    extra = tmp_path / "more"
    _touch(extra / "x.safetensors")
    folders = ModelFolders(Paths.at(tmp_path / "base"), extra={"checkpoints": [extra]})
    dirs = folders.folders("checkpoints")
    assert dirs[-2:] == [extra, BUILTIN_DATA / "checkpoints"]
    assert "x.safetensors" in folders.list("checkpoints")


def test_bad_yaml_is_reported(tmp_path: Path) -> None:
    config = tmp_path / "extra_model_paths.yaml"
    config.write_text("just a string")
    from graphflow.models.errors import ModelFileError

    with pytest.raises(ModelFileError, match="extra_model_paths.yaml"):
        ModelFolders(Paths.at(tmp_path, extra_model_paths=(config,)))
