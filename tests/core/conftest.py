from __future__ import annotations

import pytest

from graphflow.bootstrap import builtin_registry
from graphflow.context import Runtime
from graphflow.paths import Paths
from graphflow.registry import PackStatus
from graphflow.scheduler import Executor

from .nodes_for_tests import CALLS, FINGERPRINTS, TEST_NODES


@pytest.fixture
def runtime(base_dir) -> Runtime:
    registry = builtin_registry()
    registry.register_all(TEST_NODES, pack=registry.add_pack(PackStatus("tests", "tests", "native")))
    return Runtime(registry, Paths.at(base_dir).ensure())


@pytest.fixture
def executor(runtime) -> Executor:
    CALLS.clear()
    FINGERPRINTS["value"] = 0
    return Executor(runtime)


@pytest.fixture
def calls():
    return CALLS
