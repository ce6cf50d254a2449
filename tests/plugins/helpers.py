"""Shared helpers: load the small test packs under ``packs/`` into a real runtime and run prompts."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from graphflow.bootstrap import create_runtime
from graphflow.events import Event
from graphflow.outcome import RunOutcome
from graphflow.plugins.loader import module_name_for
from graphflow.scheduler import Executor

PACKS = Path(__file__).parent / "packs"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "custom_nodes"


def executor_with(base: Path, *folders: str | Path) -> Executor:
    """An executor over a fresh runtime with the given pack folders (names under ``packs/`` or paths)."""
    dirs = [folder if isinstance(folder, Path) else PACKS / folder for folder in folders]
    runtime = create_runtime(base, custom_node_dirs=dirs)
    runtime.paths.ensure()
    return Executor(runtime)


def run(executor: Executor, prompt: dict[str, Any], **kwargs: Any) -> tuple[RunOutcome, list[Event]]:
    """Validate (must pass) and execute ``prompt``; returns the outcome and every event emitted."""
    events: list[Event] = []
    graph, report = executor.validate(prompt)
    assert graph is not None and not report.node_errors, report.text_lines()
    outcome = executor.execute(graph, on_event=events.append, **kwargs)
    return outcome, events


def pack_module(folder: str, name: str) -> ModuleType:
    """The imported module of pack ``packs/<folder>/<name>.py`` (to read what its nodes recorded)."""
    return sys.modules[module_name_for(PACKS / folder / f"{name}.py")]


def node(class_type: str, **inputs: Any) -> dict[str, Any]:
    return {"class_type": class_type, "inputs": inputs}
