"""Queue control: ``GET /prompt``, ``/queue``, ``/interrupt``, ``/free`` and the ``/jobs`` cancel routes.

Cancelling is per prompt id: a pending prompt is removed and recorded in history as cancelled (ComfyUI
forgets it); a running one has its own cancel token set, so an interrupt can never hit the next prompt.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from graphflow.events import now_ms

from .bodies import fail, parse_json, read_json_object, string_list
from .jobs import Job
from .state import STATE, ServerState

routes = web.RouteTableDef()

CANCELLED_PENDING = "removed from the queue before it ran"
INTERRUPTED = "interrupted by request"


async def cancel_prompts(state: ServerState, prompt_ids: list[str] | None) -> tuple[list[Job], list[Job]]:
    """Cancel pending and running prompts (``None``: every pending one); returns both lists."""
    removed, running = state.queue.cancel(prompt_ids, INTERRUPTED)
    futures = [
        state.store.finish(
            job.prompt_id,
            "cancelled",
            outputs={},
            meta={},
            messages=[
                *job.notes,
                [
                    "execution_cancelled",
                    {"prompt_id": job.prompt_id, "timestamp": now_ms(), "reason": CANCELLED_PENDING},
                ],
            ],
            finished=now_ms(),
        )
        for job in removed
    ]
    if futures:
        await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))
    return removed, running


@routes.get("/prompt")
async def get_prompt(request: web.Request) -> web.Response:
    return web.json_response({"exec_info": {"queue_remaining": request.app[STATE].queue.remaining}})


@routes.get("/queue")
async def get_queue(request: web.Request) -> web.Response:
    queue = request.app[STATE].queue
    return web.json_response(
        {
            "queue_running": [job.queue_item() for job in queue.running()],
            "queue_pending": [job.queue_item() for job in queue.pending()],
        }
    )


@routes.post("/queue")
async def post_queue(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = await read_json_object(request, max_depth=state.config.max_json_depth)
    if body.get("clear"):
        await cancel_prompts(state, None)
    if "delete" in body:
        ids = string_list(body["delete"], "delete")
        pending = [i for i in ids if (found := state.queue.find(i)) is not None and found[0] == "pending"]
        await cancel_prompts(state, pending)
    return web.Response(status=200)


@routes.post("/interrupt")
async def post_interrupt(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body: Any = None
    raw = await request.read()
    if raw.strip():
        try:
            body = parse_json(raw, state.config.max_json_depth)
        except ValueError:  # ComfyUI treats a body that is not JSON as "no body"
            body = None
    prompt_id = body.get("prompt_id") if isinstance(body, dict) else None
    if isinstance(prompt_id, str):
        found = state.queue.find(prompt_id)
        if found is not None and found[0] == "running":
            found[1].cancel.cancel(INTERRUPTED)
    else:
        state.queue.interrupt_running(INTERRUPTED)
    return web.Response(status=200)


@routes.post("/free")
async def post_free(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = await read_json_object(request, max_depth=state.config.max_json_depth, allow_empty=True)
    unload, free = bool(body.get("unload_models")), bool(body.get("free_memory"))
    for worker in state.workers:
        worker.request_free(unload, free)
    return web.Response(status=200)


@routes.post("/jobs/cancel")
async def post_jobs_cancel(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = await read_json_object(request, max_depth=state.config.max_json_depth)
    ids = string_list(body.get("job_ids"), "job_ids")
    removed, running = await cancel_prompts(state, ids)
    done = {job.prompt_id for job in removed} | {job.prompt_id for job in running}
    return web.json_response({"cancelled": [i for i in ids if i in done]})


@routes.post("/jobs/{job_id}/cancel")
async def post_job_cancel(request: web.Request) -> web.Response:
    state = request.app[STATE]
    job_id = request.match_info["job_id"]
    removed, running = await cancel_prompts(state, [job_id])
    if not removed and not running:
        if not await asyncio.to_thread(state.store.exists, job_id):
            fail(404, "not_found", f"No job with id {job_id!r}.")
        return web.json_response({"cancelled": []})
    return web.json_response({"cancelled": [job_id]})
