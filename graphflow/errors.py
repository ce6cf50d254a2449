"""Validation problems in ComfyUI's wire shapes, and as text a person can act on.

Every problem names the node (id, type, title), the input, what is wrong and what to do. ``comfy_json``
produces ComfyUI's ``{"error": ..., "node_errors": ...}`` body so the official front end outlines the
right nodes; ``text_lines`` produces the CLI's wording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Problem:
    """One thing wrong with one node. ``type`` is ComfyUI's error type string."""

    type: str
    message: str
    details: str = ""
    input_name: str | None = None
    fix: str | None = None
    extra_info: dict[str, Any] = field(default_factory=dict)

    def comfy_json(self) -> dict[str, Any]:
        extra = dict(self.extra_info)
        if self.input_name is not None:
            extra.setdefault("input_name", self.input_name)
        if self.fix:
            extra.setdefault("fix", self.fix)
        return {"type": self.type, "message": self.message, "details": self.details, "extra_info": extra}


@dataclass(slots=True)
class NodeProblems:
    node_id: str
    class_type: str
    title: str
    problems: list[Problem] = field(default_factory=list)
    dependent_outputs: list[str] = field(default_factory=list)

    def label(self) -> str:
        title = f' "{self.title}"' if self.title and self.title != self.class_type else ""
        return f"node {self.node_id} ({self.class_type}{title})"

    def comfy_json(self) -> dict[str, Any]:
        return {
            "errors": [p.comfy_json() for p in self.problems],
            "dependent_outputs": list(self.dependent_outputs),
            "class_type": self.class_type,
        }

    def text_lines(self) -> list[str]:
        lines = []
        for problem in self.problems:
            where = f", input '{problem.input_name}'" if problem.input_name else ""
            text = problem.message
            if problem.details and problem.details not in (problem.input_name, ""):
                text += f" ({problem.details})"
            if problem.fix:
                text += f". Fix: {problem.fix}"
            lines.append(f"{self.label()}{where}: {text}")
        return lines


@dataclass(slots=True)
class PromptError:
    """The top-level ``error`` of a rejected prompt (``no_prompt``, ``invalid_prompt``, ...)."""

    type: str
    message: str
    details: str = ""
    extra_info: dict[str, Any] = field(default_factory=dict)

    def comfy_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "message": self.message,
            "details": self.details,
            "extra_info": self.extra_info,
        }


@dataclass
class ValidationReport:
    """The outcome of validating a whole prompt.

    ``error`` set means the prompt is rejected (HTTP 400). Otherwise ``outputs`` run, and ``node_errors``
    lists outputs dropped because of problems (returned with a 200, as ComfyUI does). ``warnings`` hold
    problems in nodes that feed no output: they would not run anyway, but the user should know.
    """

    error: PromptError | None = None
    node_errors: dict[str, NodeProblems] = field(default_factory=dict)
    warnings: dict[str, NodeProblems] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    def comfy_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"node_errors": {nid: p.comfy_json() for nid, p in self.node_errors.items()}}
        if self.error is not None:
            body = {"error": self.error.comfy_json(), **body}
        if self.warnings:
            body["node_warnings"] = {nid: p.comfy_json() for nid, p in self.warnings.items()}
        return body

    def text_lines(self) -> list[str]:
        lines: list[str] = []
        if self.error is not None:
            head = self.error.message
            if self.error.details and self.error.type != "prompt_outputs_failed_validation":
                head += f" ({self.error.details})"
            lines.append(f"error: {head}")
            fix = self.error.extra_info.get("fix")
            if fix:
                lines.append(f"  fix: {fix}")
        for node_problems in self.node_errors.values():
            for line in node_problems.text_lines():
                lines.append(f"error: {line}")
            if node_problems.dependent_outputs and self.error is None:
                outs = ", ".join(node_problems.dependent_outputs)
                lines.append(f"  (output node(s) {outs} will not run)")
        for node_problems in self.warnings.values():
            for line in node_problems.text_lines():
                lines.append(f"warning: {line} [this node feeds no output, so it would not run]")
        return lines
