"""History windowing (comfy-wire.md §3.4), deletion, pruning, and the ``/jobs`` routes (§3.5)."""

from __future__ import annotations

import aiohttp
import pytest
from graphflow.server.config import ServerConfig

from .conftest import connect, get, post, sleeper


def prompt_for(value: int) -> dict:
    return {
        "1": {"class_type": "PrimitiveInt", "inputs": {"value": value}},
        "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}},
    }


async def run_all(session, count: int, *, prefix: str = "p", start: int = 0) -> list[str]:
    """Queue ``count`` prompts with ids p0, p1, ... and wait for the last to finish."""
    ws = await connect(session)
    ids = []
    for index in range(start, start + count):
        status, reply = await post(
            session,
            "/prompt",
            {"prompt": prompt_for(index), "prompt_id": f"{prefix}{index}", "client_id": ws.sid},
        )
        assert status == 200, reply
        ids.append(reply["prompt_id"])
    await ws.until_done(ids[-1])
    await ws.ws.close()
    return ids


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", [0, 1, 2, 3, 4]),
        ("?max_items=2", [3, 4]),
        ("?max_items=0", []),
        ("?max_items=9", [0, 1, 2, 3, 4]),
        ("?offset=2", [2, 3, 4]),
        ("?offset=1&max_items=2", [1, 2]),
        ("?offset=0", [0, 1, 2, 3, 4]),
        ("?offset=5", []),
        ("?offset=7&max_items=1", []),
    ],
)
async def test_history_windowing(server, query, expected):
    async with aiohttp.ClientSession(server.url) as session:
        ids = await run_all(session, 5)
        status, history = await get(session, "/history" + query)
    assert status == 200
    assert list(history) == [ids[i] for i in expected]


async def test_history_entry_shape(server):
    async with aiohttp.ClientSession(server.url) as session:
        (prompt_id,) = await run_all(session, 1)
        _, single = await get(session, f"/history/{prompt_id}")
        _, unknown = await get(session, "/history/nope")
    entry = single[prompt_id]
    assert set(entry) == {"prompt", "outputs", "status", "meta"}
    number, pid, prompt, extra, outputs = entry["prompt"]
    assert (number, pid, outputs) == (0, prompt_id, ["2"]) and prompt == prompt_for(0)
    assert "client_id" in extra
    assert entry["outputs"] == {"2": {"text": ["0"]}}
    assert entry["meta"] == {
        "2": {"node_id": "2", "display_node": "2", "parent_node": None, "real_node_id": "2"}
    }
    assert entry["status"]["status_str"] == "success" and entry["status"]["completed"] is True
    names = [name for name, _ in entry["status"]["messages"]]
    assert names == ["execution_start", "execution_cached", "execution_success"]
    assert all(isinstance(data["timestamp"], int) for _, data in entry["status"]["messages"])
    assert unknown == {}


async def test_secret_extra_data_never_stored(server):
    body = {
        "prompt": prompt_for(1),
        "prompt_id": "secret",
        "extra_data": {"auth_token_comfy_org": "T", "api_key_comfy_org": "K", "keep": 1},
    }
    async with aiohttp.ClientSession(server.url) as session:
        ws = await connect(session)
        body["client_id"] = ws.sid
        await post(session, "/prompt", body)
        await ws.until_done("secret")
        _, history = await get(session, "/history/secret")
    assert history["secret"]["prompt"][3] == {"keep": 1, "client_id": ws.sid}
    path = server.state.store.path
    stored = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))  # the DB and its WAL
    assert (
        b'"keep"' in stored and b"auth_token_comfy_org" not in stored and b"api_key_comfy_org" not in stored
    )


async def test_delete_and_clear_history(server):
    async with aiohttp.ClientSession(server.url) as session:
        ids = await run_all(session, 3)
        assert await post(session, "/history", {"delete": [ids[1]]}) == (200, None)
        _, after_delete = await get(session, "/history")
        assert await post(session, "/api/history", {"clear": True}) == (200, None)
        _, after_clear = await get(session, "/history")
    assert list(after_delete) == [ids[0], ids[2]]
    assert after_clear == {}


async def test_history_is_pruned_to_its_size(make_server):
    server = make_server(ServerConfig(port=0, history_size=3))
    async with aiohttp.ClientSession(server.url) as session:
        ids = await run_all(session, 5)
        _, history = await get(session, "/history")
    assert list(history) == ids[2:]


async def test_jobs_listing_and_detail(server):
    workflow = {"id": "wf-1", "nodes": [], "links": []}
    async with aiohttp.ClientSession(server.url) as session:
        ws = await connect(session)
        ok = await post(
            session,
            "/prompt",
            {
                "prompt": {
                    "1": {"class_type": "PrimitiveInt", "inputs": {"value": 3}},
                    "2": {"class_type": "ServerTestSave", "inputs": {"value": ["1", 0]}},
                },
                "client_id": ws.sid,
                "extra_data": {"extra_pnginfo": {"workflow": workflow}},
            },
        )
        await ws.until_done(ok[1]["prompt_id"])
        failed = await post(
            session,
            "/prompt",
            {
                "prompt": {
                    "f": {"class_type": "ServerTestFail", "inputs": {}},
                    "o": {"class_type": "PreviewAny", "inputs": {"source": ["f", 0]}},
                },
                "client_id": ws.sid,
            },
        )
        await ws.until_done(failed[1]["prompt_id"])
        running = await post(session, "/prompt", {"prompt": sleeper(2000, 5, seed=21), "client_id": ws.sid})
        await ws.until(lambda m: m["type"] == "progress")
        pending = await post(session, "/prompt", {"prompt": sleeper(1, 0, seed=22)})
        _, active = await get(session, "/api/jobs?status=in_progress,pending&limit=200&offset=0")
        _, done = await get(session, "/api/jobs?status=completed,failed,cancelled&limit=64")
        _, page = await get(session, "/api/jobs?limit=1&offset=1")
        _, detail = await get(session, f"/api/jobs/{ok[1]['prompt_id']}")
        _, pending_detail = await get(session, f"/api/jobs/{pending[1]['prompt_id']}")
        missing = await get(session, "/api/jobs/nope")
        cancel_one = await post(session, f"/api/jobs/{pending[1]['prompt_id']}/cancel")
        cancel_many = await post(session, "/api/jobs/cancel", {"job_ids": [running[1]["prompt_id"], "nope"]})
        await ws.until_done(running[1]["prompt_id"])
        _, after = await get(session, "/api/jobs?status=cancelled")
    assert [(j["id"], j["status"]) for j in active["jobs"]] == [
        (pending[1]["prompt_id"], "pending"),
        (running[1]["prompt_id"], "in_progress"),
    ]
    for job in active["jobs"]:
        assert job["outputs_count"] is None and job["previewable_outputs_count"] is None
    assert active["pagination"] == {"offset": 0, "limit": 200, "total": 2, "has_more": False}
    statuses = {j["id"]: j for j in done["jobs"]}
    saved = statuses[ok[1]["prompt_id"]]
    assert (
        saved["status"] == "completed"
        and saved["outputs_count"] == 1
        and saved["previewable_outputs_count"] == 1
    )
    assert saved["preview_output"]["nodeId"] == "2" and saved["preview_output"]["mediaType"] == "images"
    assert saved["workflow_id"] == "wf-1" and saved["execution_end_time"] >= saved["create_time"]
    error = statuses[failed[1]["prompt_id"]]
    assert error["status"] == "failed" and error["execution_error"]["exception_type"] == "RuntimeError"
    assert (
        page["pagination"] == {"offset": 1, "limit": 1, "total": 4, "has_more": True}
        and len(page["jobs"]) == 1
    )
    assert detail["workflow"]["extra_data"]["extra_pnginfo"]["workflow"] == workflow
    assert detail["outputs"]["2"]["images"][0]["filename"].endswith(".png")
    assert detail["execution_status"]["status_str"] == "success"
    assert (
        pending_detail["status"] == "pending"
        and pending_detail["workflow"]["prompt"]["s"]["inputs"]["seed"] == 22
    )
    assert missing[0] == 404
    assert cancel_one == (200, {"cancelled": [pending[1]["prompt_id"]]})
    assert cancel_many == (200, {"cancelled": [running[1]["prompt_id"]]})
    assert {j["id"] for j in after["jobs"]} == {pending[1]["prompt_id"], running[1]["prompt_id"]}


async def test_ui_values_json_cannot_hold_are_sent_as_text(server):
    prompt = {
        "1": {"class_type": "PrimitiveInt", "inputs": {"value": 1}},
        "2": {"class_type": "ServerTestOddUi", "inputs": {"value": ["1", 0]}},
    }
    async with aiohttp.ClientSession(server.url) as session:
        ws = await connect(session)
        _, reply = await post(session, "/prompt", {"prompt": prompt, "client_id": ws.sid})
        messages = await ws.until_done(reply["prompt_id"])
        _, history = await get(session, f"/history/{reply['prompt_id']}")
    executed = next(m for m in messages if m["type"] == "executed")
    assert executed["data"]["output"] == {"text": ["{'odd'}"]}
    entry = history[reply["prompt_id"]]
    assert entry["status"]["status_str"] == "success" and entry["outputs"]["2"] == {"text": ["{'odd'}"]}
