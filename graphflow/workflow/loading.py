"""Load any workflow file: API JSON, editor JSON, or a PNG with embedded metadata.

``load_workflow`` detects the format and always returns an API prompt ready to queue, plus the editor JSON
when there is one (to embed in saved images)::

    loaded = load_workflow("my_workflow.png", object_info)
    loaded.prompt, loaded.workflow, loaded.source_format, loaded.warnings
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from graphflow.workflow.editor import DEFAULT_VIRTUAL_TYPES, editor_to_api
from graphflow.workflow.errors import WorkflowError
from graphflow.workflow.png import is_png, read_png_workflow

SourceFormat = Literal["api", "editor", "png-prompt", "png-workflow"]


@dataclass
class LoadedWorkflow:
    """A loaded workflow: the API ``prompt``, the editor ``workflow`` (or None), where they came from."""

    prompt: dict[str, dict[str, Any]]
    workflow: dict[str, Any] | None
    source_format: SourceFormat
    warnings: list[str] = field(default_factory=list)


def is_api_prompt(obj: Any) -> bool:
    """True for an API prompt: a non-empty object whose every value is a node with a ``class_type``."""
    return (
        isinstance(obj, Mapping)
        and bool(obj)
        and all(
            isinstance(node, Mapping) and isinstance(node.get("class_type"), str) for node in obj.values()
        )
    )


def is_editor_workflow(obj: Any) -> bool:
    """True for an editor workflow: an object with a ``nodes`` list and a ``links`` list or a ``version``."""
    return (
        isinstance(obj, Mapping)
        and isinstance(obj.get("nodes"), list)
        and (isinstance(obj.get("links"), list) or "version" in obj)
    )


def _read_source(source: Any) -> tuple[Any, str]:
    """(bytes or a parsed object, a name for messages)."""
    if isinstance(source, str) and source.lstrip().startswith(("{", "[")):
        return source.encode("utf-8"), "the workflow text"
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            return path.read_bytes(), path.name
        except OSError as error:
            raise WorkflowError(
                f"cannot read workflow file {str(path)!r}: {error.strerror or error}"
            ) from None
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "the workflow data"
    return source, "the workflow"


def _parse_json(data: bytes, name: str) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WorkflowError(
            f"{name} is neither JSON nor a PNG ({error}). Load a workflow saved from the editor, an "
            "'Export (API)' file, or a PNG saved by a SaveImage node."
        ) from None


def load_workflow(
    source: str | os.PathLike[str] | bytes | Mapping[str, Any],
    node_defs: Mapping[str, Mapping[str, Any]],
    *,
    prefer_workflow: bool = False,
    virtual_types: frozenset[str] = DEFAULT_VIRTUAL_TYPES,
    dynamic_prompts: random.Random | None = None,
) -> LoadedWorkflow:
    """Load a workflow from a path, raw bytes, or an already-parsed JSON object.

    Args:
        source: a file path, JSON text, the file's bytes (JSON or PNG), or a parsed JSON object.
        node_defs: ``/object_info`` data, used to convert editor workflows.
        prefer_workflow: for PNGs, convert the embedded editor workflow even when a ready ``prompt`` exists.
        virtual_types, dynamic_prompts: passed to :func:`editor_to_api`.

    A ``POST /prompt`` body (``{"prompt": {...}, "extra_data": {"extra_pnginfo": {"workflow": ...}}}``) is
    accepted as API JSON.

    Raises:
        WorkflowError: unreadable file, not JSON, not a workflow, a PNG without metadata, an unknown schema
            version, or a conversion error (:class:`UnknownNodeTypeError` for missing node types).
    """
    data, name = _read_source(source)
    if isinstance(data, bytes) and is_png(data):
        return _load_png(data, node_defs, prefer_workflow, virtual_types, dynamic_prompts)
    obj = _parse_json(data, name) if isinstance(data, bytes) else data

    if is_editor_workflow(obj):
        result = editor_to_api(obj, node_defs, virtual_types=virtual_types, dynamic_prompts=dynamic_prompts)
        return LoadedWorkflow(result.prompt, dict(obj), "editor", result.warnings)
    if isinstance(obj, Mapping) and is_api_prompt(obj.get("prompt")):
        extra = (obj.get("extra_data") or {}).get("extra_pnginfo") or {}
        workflow = extra.get("workflow") if isinstance(extra, Mapping) else None
        return LoadedWorkflow(dict(obj["prompt"]), workflow if is_editor_workflow(workflow) else None, "api")
    if is_api_prompt(obj):
        return LoadedWorkflow(dict(obj), None, "api")
    raise WorkflowError(
        f"{name} is JSON but not a workflow: expected an editor workflow (with 'nodes' and 'links') or an "
        "API prompt (node ids mapping to objects with a 'class_type')."
    )


def _load_png(
    data: bytes,
    node_defs: Mapping[str, Mapping[str, Any]],
    prefer_workflow: bool,
    virtual_types: frozenset[str],
    dynamic_prompts: random.Random | None,
) -> LoadedWorkflow:
    embedded = read_png_workflow(data)
    workflow = embedded.workflow if is_editor_workflow(embedded.workflow) else None
    prompt = embedded.prompt if is_api_prompt(embedded.prompt) else None
    if prompt is not None and not (prefer_workflow and workflow is not None):
        return LoadedWorkflow(prompt, workflow, "png-prompt")
    if workflow is None:
        raise WorkflowError("the PNG's metadata holds neither an API prompt nor an editor workflow")
    result = editor_to_api(workflow, node_defs, virtual_types=virtual_types, dynamic_prompts=dynamic_prompts)
    return LoadedWorkflow(result.prompt, workflow, "png-workflow", result.warnings)
