"""The application factory: state, middlewares, routes, and the worker lifecycle.

``create_app(runtime, config)`` opens the queue database, re-queues prompts that were running when the
process last stopped (they run again; their history records it), and returns an aiohttp application whose
start-up hook binds the WebSocket hub to the event loop and starts one worker per device.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from graphflow.scheduler import Executor

from . import (
    packs,
    routes_files,
    routes_history,
    routes_info,
    routes_internal,
    routes_prompt,
    routes_queue,
    routes_user,
    websocket,
)
from .config import ServerConfig
from .frontend import setup_frontend
from .hub import Hub, message
from .jobs import Job, PromptQueue
from .logbuffer import TERMINAL_SIZE, LogBuffer
from .prompt_server import add_pack_routes, install_message_sink, prompt_server, remove_message_sink
from .routing import add_bare, add_mirrored
from .security import error_middleware, security_middleware
from .state import STATE, ServerState
from .store import JobStore
from .worker import Worker, requeue_note

if TYPE_CHECKING:
    from graphflow.context import Runtime

log = logging.getLogger(__name__)

DATABASE_NAME = "graphflow.sqlite3"
RESTART_REASON = "the server stopped while this prompt ran; it ran again after the restart"


def create_app(
    runtime: Runtime,
    config: ServerConfig | None = None,
    *,
    logs: LogBuffer | None = None,
    frontend: bool = True,
) -> web.Application:
    """Build the server for ``runtime``. Nothing runs until the application starts."""
    config = config or ServerConfig()
    paths = runtime.paths.ensure()
    store = JobStore(config.database or paths.user / DATABASE_NAME, config.history_size)
    hub = Hub()

    def queue_changed(remaining: int) -> None:
        hub.broadcast(message("status", {"status": {"exec_info": {"queue_remaining": remaining}}}))

    state = ServerState(
        runtime=runtime,
        config=config,
        store=store,
        queue=PromptQueue(queue_changed),
        hub=hub,
        validator=Executor(runtime),
        logs=logs or LogBuffer(),
        counter=store.next_counter,
    )
    state.prompt_server = prompt_server()
    state.on_prompt = state.prompt_server.on_prompt_handlers
    state.user_dir.mkdir(parents=True, exist_ok=True)
    state.logs.send = lambda sid, entries: hub.post(
        sid, message("logs", {"entries": entries, "size": dict(TERMINAL_SIZE)})
    )
    _recover(state)
    state.workers = [Worker(state, device, index) for index, device in enumerate(config.devices)]

    app = web.Application(
        client_max_size=config.max_upload_size,
        middlewares=[error_middleware, security_middleware(config)],
    )
    app[STATE] = state
    for table in (
        routes_prompt.routes,
        routes_queue.routes,
        routes_history.routes,
        routes_info.routes,
        routes_files.routes,
        routes_user.routes,
        websocket.routes,
    ):
        add_mirrored(app, table)
    for table in (routes_internal.routes, packs.static_routes, packs.template_routes):
        add_bare(app, table)
    add_pack_routes(app, state.prompt_server)
    if frontend:
        setup_frontend(app)
    app.on_startup.append(_start)
    app.on_shutdown.append(_stop)
    return app


def _recover(state: ServerState) -> None:
    stored = state.store.recover(lambda prompt_id, stamp: requeue_note(prompt_id, stamp, RESTART_REASON))
    for row in stored:
        state.queue.put(
            Job(
                prompt_id=row.prompt_id,
                number=row.number,
                number_is_float=row.number_is_float,
                counter=row.counter,
                prompt=row.prompt,
                extra_data=row.extra_data,
                outputs_to_execute=row.outputs_to_execute,
                created=row.created,
                attempts=row.attempts,
                notes=row.notes,
            )
        )
    if stored:
        log.info("%d queued prompt(s) restored from %s", len(stored), state.store.path)


async def _start(app: web.Application) -> None:
    state = app[STATE]
    state.hub.bind(asyncio.get_running_loop())
    install_message_sink(state.hub)
    for worker in state.workers:
        worker.start()


async def _stop(app: web.Application) -> None:
    state = app[STATE]
    remove_message_sink()
    for worker in state.workers:
        worker.stop()
    state.queue.close()
    await state.hub.close_all()
    for worker in state.workers:
        if worker.is_alive():
            await asyncio.to_thread(worker.join, 60)
    state.store.close()
