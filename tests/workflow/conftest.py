"""Shared fixtures for the workflow-format tests: hand-written object_info and golden workflows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
WORKFLOWS = FIXTURES / "workflows"


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def object_info() -> dict[str, Any]:
    """``/object_info`` for the core nodes the tests use, written by hand from the specs."""
    return read_json(FIXTURES / "object_info_core.json")


@pytest.fixture
def golden():
    """Load ``(editor workflow, expected API prompt)`` of a golden case by name."""

    def load(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        return read_json(WORKFLOWS / f"{name}.json"), read_json(WORKFLOWS / f"{name}.api.json")

    return load
