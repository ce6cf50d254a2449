"""Shared fixtures: a runtime over a temporary base directory."""

from __future__ import annotations

import pytest

from graphflow.bootstrap import builtin_registry
from graphflow.context import Runtime
from graphflow.paths import Paths


@pytest.fixture
def base_dir(tmp_path):
    return tmp_path / "base"


@pytest.fixture
def runtime(base_dir) -> Runtime:
    """A runtime with the built-in nodes and folders under a temporary directory."""
    return Runtime(builtin_registry(), Paths.at(base_dir).ensure())
