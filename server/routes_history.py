"""Results: ``/history`` (ComfyUI's shape and windowing) and ``/jobs`` (the queue panel of front end ≥ 1.41).

History entries are assembled from the stored JSON texts without re-parsing them, so even a full history
of 10000 prompts is answered quickly.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from .bodies import fail, query_int, read_json_object, string_list
from .jobs import Job
from .state import STATE, ServerState
from .store import HistoryRow

routes = web.RouteTableDef()

JOB_STATES = ("pending", "in_progress", "completed", "failed", "cancelled")
STORE_STATES = {"completed": ("success",), "failed": ("error",), "cancelled": ("interrupted", "cancelled")}
MEDIA_KEYS = {"images": "images", "video": "video", "audio": "audio", "gifs": "video"}


def _history_body(rows: list[HistoryRow]) -> str:
    return "{" + ",".join(f"{json.dumps(row.prompt_id)}:{row.entry_json()}" for row in rows) + "}"


def _json_text(text: str) -> web.Response:
    return web.Response(text=text, content_type="application/json")


@routes.get("/history")
async def get_history(request: web.Request) -> web.Response:
    store = request.app[STATE].store
    max_items = query_int(request.query, "max_items", -1)
    offset = query_int(request.query, "offset", -1)
    limit = max_items if max_items >= 0 else None

    def window() -> list[HistoryRow]:
        if offset >= 0:
            return store.history(offset, limit)
        if limit is None:
            return store.history()
        return store.history(max(0, store.history_count() - limit), limit)

    return _json_text(_history_body(await asyncio.to_thread(window)))


@routes.get("/history/{prompt_id}")
async def get_history_entry(request: web.Request) -> web.Response:
    store = request.app[STATE].store
    row = await asyncio.to_thread(store.history_entry, request.match_info["prompt_id"])
    return _json_text(_history_body([row] if row else []))


@routes.post("/history")
async def post_history(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = await read_json_object(request, max_depth=state.config.max_json_depth)
    if body.get("clear"):
        await asyncio.wrap_future(state.store.delete_history(None))
    if "delete" in body:
        ids = string_list(body["delete"], "delete")
        await asyncio.wrap_future(state.store.delete_history(ids))
    return web.Response(status=200)


# -- /jobs ---------------------------------------------------------------------------------------------
def _count_outputs(outputs: dict[str, Any]) -> tuple[int, int, dict[str, Any] | None]:
    """(all output items, previewable media items, the first media item as a preview_output)."""
    total = previewable = 0
    preview = None
    for node_id, ui in outputs.items():
        if not isinstance(ui, dict):
            continue
        for key, items in ui.items():
            if key == "animated" or not isinstance(items, list):
                continue
            total += len(items)
            if key not in MEDIA_KEYS:
                continue
            for item in items:
                if isinstance(item, dict) and "filename" in item:
                    previewable += 1
                    if preview is None:
                        preview = {
                            "filename": item.get("filename"),
                            "subfolder": item.get("subfolder", ""),
                            "type": item.get("type", "output"),
                            "nodeId": str(node_id),
                            "mediaType": MEDIA_KEYS[key],
                        }
    return total, previewable, preview


def _workflow_id(extra_data: dict[str, Any]) -> str | None:
    pnginfo = extra_data.get("extra_pnginfo")
    workflow = pnginfo.get("workflow") if isinstance(pnginfo, dict) else None
    found = workflow.get("id") if isinstance(workflow, dict) else None
    return found if isinstance(found, str) else None


def queued_job(job: Job, status: str) -> dict[str, Any]:
    return {
        "id": job.prompt_id,
        "status": status,
        "create_time": job.created,
        "priority": job.number_json,
        "execution_start_time": job.started,
        "execution_end_time": None,
        "outputs_count": None,
        "previewable_outputs_count": None,
        "preview_output": None,
        "execution_error": None,
        "workflow_id": _workflow_id(job.extra_data),
    }


def finished_job(row: HistoryRow, detail: bool = False) -> dict[str, Any]:
    outputs = json.loads(row.outputs)
    messages = json.loads(row.messages)
    extra_data = json.loads(row.extra_data)
    total, previewable, preview = _count_outputs(outputs)
    error = next((data for kind, data in messages if kind == "execution_error"), None)
    started = next(
        (data.get("timestamp") for kind, data in messages if kind == "execution_start"), row.started
    )
    status = {"success": "completed", "error": "failed"}.get(row.state, "cancelled")
    job = {
        "id": row.prompt_id,
        "status": status,
        "create_time": row.created,
        "priority": float(row.number) if row.number_is_float else int(row.number),
        "execution_start_time": started,
        "execution_end_time": row.finished,
        "outputs_count": total,
        "previewable_outputs_count": previewable,
        "preview_output": preview,
        "execution_error": error,
        "workflow_id": _workflow_id(extra_data),
    }
    if detail:
        ok = row.state == "success"
        job.update(
            workflow={"prompt": json.loads(row.prompt), "extra_data": extra_data},
            outputs=outputs,
            update_time=row.finished,
            execution_status={
                "status_str": "success" if ok else "error",
                "completed": ok,
                "messages": messages,
            },
            execution_meta=json.loads(row.meta),
        )
    return job


def _list_jobs(state: ServerState, wanted: list[str], limit: int, offset: int, newest_first: bool) -> dict:
    queued: list[dict[str, Any]] = []
    if "in_progress" in wanted:
        queued += [queued_job(job, "in_progress") for job in state.queue.running()]
    if "pending" in wanted:
        queued += [queued_job(job, "pending") for job in state.queue.pending()]
    store_states = [s for status in wanted for s in STORE_STATES.get(status, ())]
    rows, finished_total = state.store.finished_jobs(
        store_states, newest_first=newest_first, limit=offset + limit
    )
    merged = queued + [finished_job(row) for row in rows]
    merged.sort(key=lambda job: (job["create_time"], job["id"]), reverse=newest_first)
    total = len(queued) + finished_total
    page = merged[offset : offset + limit]
    return {
        "jobs": page,
        "pagination": {
            "offset": offset,
            "limit": limit,
            "total": total,
            "has_more": offset + len(page) < total,
        },
    }


@routes.get("/jobs")
async def get_jobs(request: web.Request) -> web.Response:
    state = request.app[STATE]
    text = request.query.get("status", "")
    wanted = [s.strip() for s in text.split(",") if s.strip()] or list(JOB_STATES)
    unknown = [s for s in wanted if s not in JOB_STATES]
    if unknown:
        fail(400, "invalid_query", f"Unknown job status {unknown[0]!r}; use {', '.join(JOB_STATES)}.")
    limit = query_int(request.query, "limit", 200, minimum=1)
    offset = query_int(request.query, "offset", 0, minimum=0)
    order = request.query.get("sort_order", "desc").lower()
    if order not in ("asc", "desc"):
        fail(400, "invalid_query", "sort_order must be 'asc' or 'desc'.")
    body = await asyncio.to_thread(_list_jobs, state, wanted, limit, offset, order == "desc")
    return web.json_response(body)


@routes.get("/jobs/{job_id}")
async def get_job(request: web.Request) -> web.Response:
    state = request.app[STATE]
    job_id = request.match_info["job_id"]
    found = state.queue.find(job_id)
    if found is not None:
        kind, job = found
        body = queued_job(job, "in_progress" if kind == "running" else "pending")
        body["workflow"] = {"prompt": job.prompt, "extra_data": job.public_extra_data()}
        return web.json_response(body)
    row = await asyncio.to_thread(state.store.history_entry, job_id)
    if row is None:
        fail(404, "not_found", f"No job with id {job_id!r}.")
    return web.json_response(finished_job(row, detail=True))
