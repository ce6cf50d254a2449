"""``POST /prompt``: accept an API-format (or editor-format) graph, validate it, queue it durably.

Order of work: body hooks → editor conversion → priority → validation → durable insert (group commit)
→ in-memory queue (which broadcasts ``status``) → reply. The reply is sent only after the commit, so a
prompt answered 200 survives a crash. graphflow differences from ComfyUI 0.3.64: a client-chosen
``prompt_id`` that already exists is refused with 409; editor workflows are converted on the server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import uuid
from typing import Any

from aiohttp import web

from graphflow.events import now_ms

from .bodies import fail, read_json_object, string_list
from .jobs import Job
from .state import STATE, ServerState
from .store import DuplicatePromptId

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

MAX_PROMPT_ID_LENGTH = 200


@routes.post("/prompt")
async def post_prompt(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = await read_json_object(request, max_depth=state.config.max_json_depth)
    for hook in state.on_prompt:
        try:
            changed = hook(body)
        except Exception:
            log.exception("an on_prompt hook failed; the prompt is used as sent")
            continue
        if isinstance(changed, dict):
            body = changed
        else:
            log.warning("on_prompt hook %r returned %s, not the body; ignored", hook, type(changed).__name__)
    warnings: list[str] = []
    if "prompt" not in body and _is_editor(body):
        body = {"prompt": body}
    if "prompt" not in body:
        fail(400, "no_prompt", "No prompt provided", "No prompt provided")
    extra_data = body.get("extra_data", {})
    if not isinstance(extra_data, dict):
        fail(400, "invalid_prompt", "extra_data must be a JSON object.")
    extra_data = dict(extra_data)
    client_id = body.get("client_id")
    if client_id is not None:
        if not isinstance(client_id, str):
            fail(400, "invalid_prompt", "client_id must be a string (the WebSocket's clientId).")
        extra_data["client_id"] = client_id
    prompt = body["prompt"]
    if _is_editor(prompt):
        prompt, warnings = _convert_editor(state, prompt)
        pnginfo = extra_data.get("extra_pnginfo")
        if not isinstance(pnginfo, dict):
            pnginfo = {}
        pnginfo.setdefault("workflow", body["prompt"])
        extra_data["extra_pnginfo"] = pnginfo
    targets = body.get("partial_execution_targets")
    if targets is not None:
        targets = string_list(targets, "partial_execution_targets")
    prompt_id = _prompt_id(body.get("prompt_id"))
    if "prompt_id" in body and (  # a fresh uuid4 cannot clash; only client-chosen ids are looked up
        state.queue.find(prompt_id) is not None or await asyncio.to_thread(state.store.exists, prompt_id)
    ):
        _duplicate(prompt_id)
    number, number_is_float = _number(body, state)

    graph, report = state.validator.validate(prompt, targets)
    if report.error is not None:
        return web.json_response(report.comfy_json(), status=400)
    job = Job(
        prompt_id=prompt_id,
        number=number,
        number_is_float=number_is_float,
        counter=state.counter - 1,
        prompt=prompt,
        extra_data=extra_data,
        outputs_to_execute=list(report.outputs),
        created=now_ms(),
        graph=graph,
    )
    row = {
        "prompt_id": prompt_id,
        "counter": job.counter,
        "number": number,
        "number_is_float": number_is_float,
        "prompt_json": json.dumps(prompt),
        "extra_data_json": json.dumps(job.public_extra_data()),
        "outputs_to_execute": job.outputs_to_execute,
        "created": job.created,
    }
    try:
        await asyncio.wrap_future(state.store.add(row))
    except DuplicatePromptId:
        _duplicate(prompt_id)
    state.queue.put(job)
    reply: dict[str, Any] = {
        "prompt_id": prompt_id,
        "number": job.number_json,
        "node_errors": report.comfy_json()["node_errors"],
    }
    if warnings:
        reply["warnings"] = warnings
    return web.json_response(reply)


def _is_editor(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("nodes"), list)
        and (isinstance(value.get("links"), list) or "version" in value)
    )


def _convert_editor(state: ServerState, workflow: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Editor JSON → API prompt with the workflow converter; its errors become 400 answers."""
    from graphflow.workflow import UnknownNodeTypeError, WorkflowError, editor_to_api

    try:
        result = editor_to_api(workflow, state.object_info())
    except UnknownNodeTypeError as error:
        missing = [{"node_id": m.node_id, "class_type": m.type, "title": m.title} for m in error.missing]
        first = missing[0] if missing else {"node_id": "?", "class_type": "?"}
        fail(
            400,
            "invalid_prompt",
            f"Cannot execute because node {first['class_type']} does not exist.",
            str(error),
            missing_nodes=missing,
        )
    except WorkflowError as error:
        fail(400, "invalid_prompt", "The editor workflow could not be converted to a prompt.", str(error))
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as error:
        # the converter trusts the editor's shapes; a hand-made workflow can break that trust. Logged with
        # its traceback, in case it is the converter that is wrong.
        log.warning("editor workflow rejected by the converter", exc_info=True)
        fail(400, "invalid_prompt", "The editor workflow is malformed.", f"{type(error).__name__}: {error}")
    return result.prompt, list(result.warnings)


def _prompt_id(value: Any) -> str:
    if value is None:  # absent (or null): the server chooses
        return str(uuid.uuid4())
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        fail(400, "invalid_prompt", "prompt_id must be a string.")
    prompt_id = str(value)
    if not prompt_id or len(prompt_id) > MAX_PROMPT_ID_LENGTH or not prompt_id.isprintable():
        fail(
            400,
            "invalid_prompt",
            f"prompt_id must be 1 to {MAX_PROMPT_ID_LENGTH} printable characters.",
        )
    return prompt_id


def _number(body: dict[str, Any], state: ServerState) -> tuple[float, bool]:
    """The priority: the client's ``number`` as float, else the counter (negated for ``front``)."""
    if "number" in body:
        value = body["number"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            fail(400, "invalid_prompt", "number must be a number (the queue priority).")
        try:
            number = float(value)
        except OverflowError:
            fail(400, "invalid_prompt", "number is too large.")
        if not math.isfinite(number):
            fail(400, "invalid_prompt", "number must be finite.")
        return number, True
    return float(state.next_number(bool(body.get("front")))), False


def _duplicate(prompt_id: str) -> None:
    fail(
        409,
        "duplicate_prompt_id",
        f"A prompt with id {prompt_id!r} is already queued or in history.",
        "Send a new prompt_id, or none to let the server choose one.",
    )
