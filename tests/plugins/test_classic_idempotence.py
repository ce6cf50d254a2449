"""NOT_IDEMPOTENT / hidden UNIQUE_ID: results are shared between runs of one node id, never across ids."""

from __future__ import annotations

import pytest

from .helpers import executor_with, node, run


@pytest.mark.parametrize(
    ("class_type", "shared"), [("IdemPlain", True), ("IdemNot", False), ("IdemWantsId", False)]
)
def test_identical_nodes_elsewhere(tmp_path, class_type, shared):
    executor = executor_with(tmp_path / "base", "idempotence")
    first, _ = run(executor, {"1": node(class_type, value=5), "9": node("PreviewAny", source=["1", 0])})
    assert "1" in first.executed
    other_id, _ = run(executor, {"7": node(class_type, value=5), "9": node("PreviewAny", source=["7", 0])})
    assert ("7" in other_id.cached) is shared
    again, _ = run(executor, {"7": node(class_type, value=5), "9": node("PreviewAny", source=["7", 0])})
    assert again.executed == []  # the node's own result is still cached between runs
    assert again.outputs["9"] == {"text": ["5"]}
