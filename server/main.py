"""``graphflow serve``: build the runtime, start the server, print where it listens, run until stopped."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from typing import TYPE_CHECKING

from .config import MIB, ServerConfig, is_loopback
from .logbuffer import LogBuffer
from .security import TOKEN_FILE, load_or_create_token

if TYPE_CHECKING:
    from aiohttp import web

    from graphflow.context import Runtime

log = logging.getLogger("graphflow.server")


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    config = ServerConfig(listen=args.listen or "127.0.0.1", port=args.port)
    upload_mb = getattr(args, "max_upload_size", None)
    if upload_mb is not None:
        config.max_upload_size = int(upload_mb * MIB)
    config.devices = (getattr(args, "device", None),)
    return config


def serve(args: argparse.Namespace, runtime: Runtime | None = None) -> int:
    """Run the server until SIGINT/SIGTERM; returns the exit status. ``runtime`` overrides the default."""
    logs = LogBuffer()
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    root.addHandler(logs)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

    if runtime is None:
        from graphflow.bootstrap import create_runtime

        runtime = create_runtime(
            args.base_directory,
            custom_node_dirs=args.custom_nodes,
            extra_model_paths=tuple(args.extra_model_paths_config),
            device=args.device,
            dtype=args.dtype,
        )
    config = config_from_args(args)
    new_token = False
    if not config.loopback_only or getattr(args, "require_token", False):
        config.token, new_token = load_or_create_token(runtime.paths.user)

    from .app import create_app

    app = create_app(runtime, config, logs=logs)
    # torch and friends leave ~10^5 long-lived objects; freezing them keeps garbage collection cheap.
    gc.freeze()
    try:
        asyncio.run(_run(app, config, new_token, runtime))
    except OSError as error:
        print(
            f"graphflow: cannot listen on {config.listen}:{config.port}: {error.strerror or error}",
            file=sys.stderr,
        )
        return 1
    return 0


async def _run(app: web.Application, config: ServerConfig, new_token: bool, runtime: Runtime) -> None:
    from aiohttp import web

    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        port = config.port
        for host in config.listen_hosts:
            site = web.TCPSite(runner, host, port, reuse_address=True)
            await site.start()
            if port == 0:  # let the OS choose once, then use the same port for every address
                port = runner.addresses[0][1]
        shown = next((h for h in config.listen_hosts if is_loopback(h)), "127.0.0.1")
        url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}/"
        print(f"graphflow: ready at {url}", flush=True)
        if config.token is not None:
            token_path = runtime.paths.user / TOKEN_FILE
            if new_token:
                print(f"graphflow: access token created; open {url}?token={config.token}", flush=True)
            else:
                print(f"graphflow: this address needs the access token stored in {token_path}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        print("graphflow: shutting down", flush=True)
    finally:
        await runner.cleanup()
