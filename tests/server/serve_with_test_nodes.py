"""``graphflow serve`` with the server test nodes added, for tests that need a real server process.

Usage (from the repository root): ``python -m tests.server.serve_with_test_nodes --port 0 --base-directory DIR``.
It parses the same options as ``graphflow serve`` and runs the same :func:`graphflow.server.main.serve`;
only the runtime gets the slow test node as well, until node packs can be loaded with ``--custom-nodes``.
"""

from __future__ import annotations

import sys

from graphflow.server.main import serve

from graphflow.bootstrap import create_runtime
from graphflow.cli.main import build_parser
from graphflow.registry import PackStatus

from .nodes_for_server import SERVER_TEST_NODES


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(["serve", *argv])
    runtime = create_runtime(
        args.base_directory,
        custom_node_dirs=args.custom_nodes,
        extra_model_paths=tuple(args.extra_model_paths_config),
        device=args.device,
        dtype=args.dtype,
    )
    pack = runtime.registry.add_pack(PackStatus("server_tests", "tests.server", "native"))
    runtime.registry.register_all(SERVER_TEST_NODES, pack=pack)
    return serve(args, runtime=runtime)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
