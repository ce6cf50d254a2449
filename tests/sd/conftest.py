"""Fixtures for the Stable Diffusion node tests: tiny models, a runtime, and a graph runner."""

from __future__ import annotations

import warnings

import pytest

from graphflow.bootstrap import builtin_registry
from graphflow.context import Runtime
from graphflow.paths import Paths
from graphflow.registry import PackStatus
from graphflow.scheduler import Executor

from . import tiny_models
from .nodes_for_tests import TEST_NODES


@pytest.fixture(autouse=True)
def _quiet_diffusers():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        yield


@pytest.fixture
def runtime(base_dir) -> Runtime:
    registry = builtin_registry()
    registry.register_all(TEST_NODES, pack=registry.add_pack(PackStatus("tests", "tests", "native")))
    return Runtime(registry, Paths.at(base_dir).ensure())


@pytest.fixture
def sd1():
    """(model, clip, vae) handles of the tiny SD1-shaped stack."""
    return tiny_models.sd1_model(), tiny_models.sd1_clip(), tiny_models.sd1_vae()


@pytest.fixture
def run_graph(runtime):
    """Validate and run an API prompt (MODEL/CLIP/VAE from the ``TinyCheckpoint`` test node); returns
    ``(outcome, events)``."""

    def run(prompt: dict, keep_values: bool = True, cancel=None, extra_data=None):
        events = []
        executor = Executor(runtime)
        graph, report = executor.validate(prompt)
        assert graph is not None, report
        outcome = executor.execute(
            graph,
            prompt_id="p1",
            on_event=events.append,
            keep_values=keep_values,
            cancel=cancel,
            extra_data=extra_data or {},
        )
        return outcome, events

    return run
