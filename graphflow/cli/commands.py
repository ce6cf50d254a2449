"""The ``graphflow`` sub-commands. Each returns the process exit status."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from pathlib import Path
from typing import Any

from graphflow.bootstrap import create_runtime
from graphflow.cli.sweep import SetError, parse_overrides, variants
from graphflow.context import Runtime
from graphflow.outcome import RunOutcome
from graphflow.scheduler import Executor

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _runtime(args: argparse.Namespace, **options: Any) -> Runtime:
    runtime = create_runtime(
        args.base_directory,
        output_dir=getattr(args, "output_dir", None),
        custom_node_dirs=args.custom_nodes,
        extra_model_paths=tuple(args.extra_model_paths_config),
        **options,
    )
    # torch and friends leave ~10^5 long-lived objects; freezing them keeps garbage collection cheap
    # while graphs with thousands of nodes run.
    gc.freeze()
    return runtime


def _load(path: str, runtime: Runtime):
    from graphflow.workflow import load_workflow

    return load_workflow(Path(path), runtime.registry.object_info(runtime))


def _fail(message: str, status: int = EXIT_USAGE) -> int:
    print(f"graphflow: {message}", file=sys.stderr)
    return status


def cmd_validate(args: argparse.Namespace) -> int:
    from graphflow.workflow import WorkflowError

    runtime = _runtime(args)
    try:
        loaded = _load(args.workflow, runtime)
    except (OSError, WorkflowError) as error:
        return _fail(str(error), EXIT_INVALID)
    _, report = Executor(runtime).validate(loaded.prompt)
    if args.json:
        print(json.dumps(report.comfy_json(), indent=2))
    else:
        for warning in loaded.warnings:
            print(f"warning: {warning}")
        for line in report.text_lines():
            print(line)
        if report.ok:
            print(f"ok: {len(loaded.prompt)} nodes, outputs {', '.join(report.outputs)}")
    return EXIT_OK if report.ok else EXIT_INVALID


def cmd_convert(args: argparse.Namespace) -> int:
    from graphflow.workflow import WorkflowError

    runtime = _runtime(args)
    try:
        loaded = _load(args.workflow, runtime)
    except (OSError, WorkflowError) as error:
        return _fail(str(error), EXIT_INVALID)
    for warning in loaded.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(json.dumps(loaded.prompt, indent=2))
    return EXIT_OK


def cmd_nodes(args: argparse.Namespace) -> int:
    runtime = _runtime(args)
    registry = runtime.registry
    if args.packs:
        packs = [pack.as_json() for pack in registry.packs]
        if args.json:
            print(json.dumps(packs, indent=2))
            return EXIT_OK
        for pack in packs:
            state = "ok" if pack["loaded"] else "FAILED"
            print(
                f"{pack['name']:<28} {pack['kind']:<12} {state:<7} {len(pack['nodes'])} nodes  {pack['source']}"
            )
            if pack["error"]:
                print(f"    error: {pack['error']}")
            for clash in pack["clashes"]:
                print(f"    clash: {clash}")
        return EXIT_OK
    if args.json:
        print(json.dumps(registry.object_info(runtime), indent=2))
        return EXIT_OK
    by_category: dict[str, list[Any]] = {}
    for spec in registry:
        by_category.setdefault(spec.category, []).append(spec)
    for category in sorted(by_category):
        print(f"{category}:")
        for spec in sorted(by_category[category], key=lambda s: s.class_type):
            flag = "  [output]" if spec.output_node else ""
            print(f"  {spec.class_type:<32} {spec.display_name}{flag}")
    print(f"{len(registry)} node types")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from graphflow.server.main import serve

    return serve(args)


def _file_outputs(outcome: RunOutcome, runtime: Runtime) -> dict[str, Any]:
    outputs: dict[str, Any] = {}
    for node_id, ui in outcome.outputs.items():
        entry = dict(ui)
        if "images" in ui:
            entry["images"] = [
                {
                    **image,
                    "path": str(
                        runtime.paths.folder(image.get("type", "output"))
                        / image.get("subfolder", "")
                        / image["filename"]
                    ),
                }
                for image in ui["images"]
            ]
        outputs[node_id] = entry
    return outputs


def _report_run(outcome: RunOutcome, applied: dict[str, Any], runtime: Runtime, as_json: bool) -> None:
    outputs = _file_outputs(outcome, runtime)
    if as_json:
        record: dict[str, Any] = {
            "prompt_id": outcome.prompt_id,
            "status": outcome.status,
            "set": applied,
            "outputs": outputs,
            "executed": outcome.executed,
            "cached": outcome.cached,
            "seconds": round(outcome.seconds, 6),
        }
        if outcome.error is not None:
            record["error"] = {
                "node_id": outcome.error.node_id,
                "node_type": outcome.error.node_type,
                "exception_type": outcome.error.exception_type,
                "exception_message": outcome.error.exception_message,
            }
        print(json.dumps(record), flush=True)
        return
    label = " ".join(f"{k}={v}" for k, v in applied.items())
    head = f"[{label}] " if label else ""
    summary = f"{len(outcome.executed)} ran, {len(outcome.cached)} cached, {outcome.seconds:.2f} s"
    if outcome.status == "success":
        print(f"{head}done: {summary}")
    elif outcome.status == "interrupted":
        print(f"{head}interrupted after {summary}")
    else:
        err = outcome.error
        print(
            f"{head}failed in node {err.node_id} ({err.node_type}): {err.exception_type}: {err.exception_message}"
        )
        if os.environ.get("GRAPHFLOW_TRACEBACK"):
            print("".join(err.traceback), file=sys.stderr)
        else:
            print("  (set GRAPHFLOW_TRACEBACK=1 to see the traceback)", file=sys.stderr)
    for node_id, entry in outputs.items():
        for image in entry.get("images", []):
            print(f"  node {node_id}: {image['path']}")
        for text in entry.get("text", []):
            print(f"  node {node_id}: {text}")


def cmd_run(args: argparse.Namespace) -> int:
    from graphflow.workflow import WorkflowError

    if args.repeat < 1:
        return _fail("--repeat must be at least 1")
    runtime = _runtime(args, device=args.device, dtype=args.dtype)
    runtime.paths.ensure()
    try:
        loaded = _load(args.workflow, runtime)
    except (OSError, WorkflowError) as error:
        return _fail(str(error), EXIT_INVALID)
    for warning in loaded.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    try:
        runs = variants(loaded.prompt, parse_overrides(loaded.prompt, args.sets))
    except SetError as error:
        return _fail(str(error))
    executor = Executor(runtime)
    extra_data = {"extra_pnginfo": {"workflow": loaded.workflow}} if loaded.workflow else {}
    status = EXIT_OK
    for applied, prompt in runs:
        graph, report = executor.validate(prompt)
        for line in report.text_lines():
            print(line, file=sys.stderr)
        if graph is None:
            return EXIT_INVALID
        for _ in range(args.repeat):
            bars = None if (args.quiet or not sys.stderr.isatty()) else _progress(applied)
            try:
                outcome = executor.execute(graph, extra_data=extra_data, on_event=bars)
            finally:
                if bars is not None:
                    bars.close()
            _report_run(outcome, applied, runtime, args.json)
            if outcome.status == "error":
                status = EXIT_FAILED
            elif outcome.status == "interrupted":
                return EXIT_INTERRUPTED
    return status


def _progress(applied: dict[str, Any]):
    from graphflow.cli.progress import ProgressBars

    return ProgressBars(" ".join(f"{k}={v}" for k, v in applied.items()))
