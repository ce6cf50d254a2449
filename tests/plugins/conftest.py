from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _only_the_packs_a_test_names(monkeypatch):
    monkeypatch.delenv("GRAPHFLOW_CUSTOM_NODES", raising=False)
