"""The SD test fixtures (runtime with the TinyCheckpoint node, graph runner) for the attention tests."""

from tests.sd.conftest import _quiet_diffusers, run_graph, runtime, sd1  # noqa: F401
