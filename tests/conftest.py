"""Shared fixtures: a runtime over a temporary base directory."""

from __future__ import annotations

import os

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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (GRAPHFLOW_CI=1) nothing may be skipped: a missing browser or model is a failure."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("GRAPHFLOW_CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run every test: {report.longrepr}"
