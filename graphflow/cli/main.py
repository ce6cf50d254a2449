"""``graphflow``: run, validate and convert workflows, list nodes, and serve the editor."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
graphflow runs latent-diffusion workflows (ComfyUI API or editor JSON, or a PNG with an embedded
workflow) without a server, and serves ComfyUI's editor and HTTP API with `graphflow serve`.

examples:
  graphflow run workflows/txt2img.json
  graphflow run workflows/txt2img.json --set 3.seed=1,2,3 --json
  graphflow validate my_workflow.json
  graphflow convert editor_workflow.json > api.json
  graphflow nodes
  graphflow serve --port 8188
"""


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base-directory",
        metavar="DIR",
        help="folder holding models/, input/, output/, temp/, user/ and custom_nodes/ "
        "(default: $GRAPHFLOW_BASE_DIR, else the current directory)",
    )
    parser.add_argument(
        "--custom-nodes",
        metavar="DIR",
        action="append",
        default=[],
        help="also load node packs from DIR (repeatable; $GRAPHFLOW_CUSTOM_NODES adds more, separated by ':')",
    )
    parser.add_argument(
        "--extra-model-paths-config",
        metavar="YAML",
        action="append",
        default=[],
        help="a ComfyUI extra_model_paths.yaml whose model folders are searched too (repeatable)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graphflow", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run a workflow and write its outputs",
        description=RUN_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "workflow", metavar="WORKFLOW", help="API JSON, editor JSON, or a PNG with an embedded workflow"
    )
    run.add_argument(
        "--set",
        dest="sets",
        metavar="NODE.INPUT=VALUE",
        action="append",
        default=[],
        help="override an input; NODE is a node id or a unique title/type; VALUE may be a comma-separated list "
        "(or a JSON list) to sweep, each variant running in this process with the cache shared (repeatable; "
        "several sweeps combine)",
    )
    run.add_argument(
        "--repeat", type=int, default=1, metavar="N", help="run each variant N times (default 1)"
    )
    run.add_argument("--output-dir", metavar="DIR", help="write outputs here instead of <base>/output")
    run.add_argument("--json", action="store_true", help="print one JSON object per run on stdout")
    run.add_argument("--device", help="cpu, cuda or cuda:N (default: CUDA when available, else CPU)")
    run.add_argument(
        "--dtype", default="auto", choices=["auto", "fp32", "bf16", "fp16"], help="model weight type"
    )
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    _common(run)

    validate = sub.add_parser("validate", help="check a workflow without running it (exit 1 when invalid)")
    validate.add_argument("workflow", metavar="WORKFLOW")
    validate.add_argument("--json", action="store_true", help="print ComfyUI's error JSON")
    _common(validate)

    convert = sub.add_parser("convert", help="print the API-format JSON of an editor workflow or PNG")
    convert.add_argument("workflow", metavar="WORKFLOW")
    _common(convert)

    nodes = sub.add_parser("nodes", help="list node types")
    nodes.add_argument("--json", action="store_true", help="print object_info, as the server's /object_info")
    nodes.add_argument("--packs", action="store_true", help="list node packs and any import errors")
    _common(nodes)

    serve = sub.add_parser("serve", help="serve the editor and ComfyUI's HTTP/WebSocket API")
    serve.add_argument(
        "--listen",
        default="127.0.0.1",
        metavar="ADDRESS",
        help="address to bind (default 127.0.0.1; other addresses require the access token)",
    )
    serve.add_argument("--port", type=int, default=8188, help="port (default 8188)")
    serve.add_argument(
        "--require-token",
        action="store_true",
        help="require the access token on loopback too (a shared machine, a reverse proxy)",
    )
    serve.add_argument(
        "--max-upload-size",
        type=float,
        default=100,
        metavar="MB",
        help="largest request body, e.g. an uploaded image, in MB (default 100)",
    )
    serve.add_argument("--device", help="cpu, cuda or cuda:N (default: CUDA when available, else CPU)")
    serve.add_argument(
        "--dtype", default="auto", choices=["auto", "fp32", "bf16", "fp16"], help="model weight type"
    )
    _common(serve)
    return parser


RUN_HELP = """\
Run a workflow: its output nodes and everything they need. Saved images go to <base>/output (or
--output-dir). A PNG made by graphflow or ComfyUI can be run directly: its embedded workflow is used.

exit status: 0 all runs succeeded, 1 the workflow is invalid, 3 a node failed, 130 interrupted.
"""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from graphflow.cli import commands

    handler = getattr(commands, f"cmd_{args.command}")
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
