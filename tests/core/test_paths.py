"""resolve_inside: the one containment check for user-supplied paths."""

from __future__ import annotations

import os

import pytest

from graphflow.paths import Paths, UnsafePathError, resolve_inside

HOSTILE = [
    "../secret.txt",
    "a/../../secret.txt",
    "/etc/passwd",
    "C:/Windows/win.ini",
    "..\\secret.txt",
    "a\\..\\..\\secret.txt",
    "ok.png\x00.txt",
    "line\nbreak",
    "..",
]


@pytest.fixture
def root(tmp_path):
    folder = tmp_path / "root"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "ok.png").write_bytes(b"x")
    (tmp_path / "secret.txt").write_text("secret")
    return folder


@pytest.mark.parametrize("attempt", HOSTILE)
def test_hostile_paths_are_refused(root, attempt):
    with pytest.raises(UnsafePathError):
        resolve_inside(root, attempt)


def test_symlink_out_of_the_root_is_refused(root, tmp_path):
    os.symlink(tmp_path / "secret.txt", root / "link.txt")
    os.symlink(tmp_path, root / "escape")
    with pytest.raises(UnsafePathError):
        resolve_inside(root, "link.txt")
    with pytest.raises(UnsafePathError):
        resolve_inside(root, "escape/secret.txt")


def test_ordinary_paths_resolve_inside(root):
    assert resolve_inside(root, "sub", "ok.png") == (root / "sub" / "ok.png").resolve()
    assert resolve_inside(root, "sub/./ok.png") == (root / "sub" / "ok.png").resolve()
    assert resolve_inside(root, "", "new/file.png") == (root / "new" / "file.png").resolve()
    assert resolve_inside(root) == root.resolve()


def test_paths_layout_and_folder_types(tmp_path):
    paths = Paths.at(tmp_path).ensure()
    assert paths.folder("output") == tmp_path.resolve() / "output" and paths.output.is_dir()
    with pytest.raises(UnsafePathError):
        paths.folder("../etc")
