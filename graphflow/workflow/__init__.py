"""Workflow formats: editor (UI) JSON → API prompt, API → editor, PNG metadata, loading any workflow file.

Works from ``/object_info`` dicts alone; see workflow-formats.md for the rules implemented here.
"""

from graphflow.workflow.api_to_editor import api_to_editor
from graphflow.workflow.dynamic_prompts import resolve_dynamic_prompt
from graphflow.workflow.editor import DEFAULT_VIRTUAL_TYPES, ConversionResult, editor_to_api
from graphflow.workflow.errors import MissingNode, UnknownNodeTypeError, WorkflowError
from graphflow.workflow.loading import LoadedWorkflow, is_api_prompt, is_editor_workflow, load_workflow
from graphflow.workflow.png import PngWorkflow, png_text_chunks, read_png_text, read_png_workflow

__all__ = [
    "DEFAULT_VIRTUAL_TYPES",
    "ConversionResult",
    "LoadedWorkflow",
    "MissingNode",
    "PngWorkflow",
    "UnknownNodeTypeError",
    "WorkflowError",
    "api_to_editor",
    "editor_to_api",
    "is_api_prompt",
    "is_editor_workflow",
    "load_workflow",
    "png_text_chunks",
    "read_png_text",
    "read_png_workflow",
    "resolve_dynamic_prompt",
]
