"""WebSocket messages: order for fresh, cached, failing and interrupted runs; previews; targeting."""

from __future__ import annotations

import json
import struct

import aiohttp

from .conftest import chain, connect, get, kinds, post, sleeper

SMALL = {
    "1": {"class_type": "PrimitiveInt", "inputs": {"value": 7}},
    "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}},
}


def progress_states(messages):
    return [m["data"]["nodes"] for m in messages if isinstance(m, dict) and m["type"] == "progress_state"]


async def submit(session, prompt, client_id=None, **extra):
    body = {"prompt": prompt, **extra}
    if client_id is not None:
        body["client_id"] = client_id
    status, reply = await post(session, "/prompt", body)
    assert status == 200, reply
    return reply["prompt_id"]


async def test_fresh_run_message_order(server):
    async with aiohttp.ClientSession(server.url) as session:
        ws = await connect(session)
        prompt_id = await submit(session, SMALL, ws.sid)
        messages = await ws.until_done(prompt_id)
    assert kinds(messages) == [
        "status", "status",
        "execution_start", "execution_cached",
        "progress_state", "executing", "progress_state",
        "progress_state", "executing", "executed", "progress_state",
        "execution_success", "status", "executing",
    ]  # fmt: skip
    statuses = [
        m["data"]["status"]["exec_info"]["queue_remaining"] for m in messages if m["type"] == "status"
    ]
    assert statuses == [1, 1, 0]
    assert messages[3]["data"]["nodes"] == []
    assert [m["data"]["node"] for m in messages if m["type"] == "executing"] == ["1", "2", None]
    executed = next(m for m in messages if m["type"] == "executed")
    assert executed["data"] == {
        "node": "2",
        "display_node": "2",
        "output": {"text": ["7"]},
        "prompt_id": prompt_id,
    }
    states = progress_states(messages)
    assert states[0]["1"]["state"] == "running" and (states[0]["1"]["value"], states[0]["1"]["max"]) == (
        0.0,
        1.0,
    )
    assert states[1]["1"]["state"] == "finished"
    assert set(states[2]) == {"2"} and states[2]["2"]["state"] == "running"
    assert states[3]["2"] == {
        "value": 1.0, "max": 1.0, "state": "finished", "node_id": "2", "prompt_id": prompt_id,
        "display_node_id": "2", "parent_node_id": None, "real_node_id": "2",
    }  # fmt: skip


async def test_fully_cached_run_replays_outputs(server):
    async with aiohttp.ClientSession(server.url) as session:
        ws = await connect(session)
        await ws.until_done(await submit(session, SMALL, ws.sid))
        prompt_id = await submit(session, SMALL, ws.sid)
        messages = await ws.until_done(prompt_id)
        _, history = await get(session, f"/history/{prompt_id}")
    assert kinds(messages) == [
        "status", "status", "execution_start", "execution_cached", "executed", "progress_state",
        "execution_success", "status", "executing",
    ]  # fmt: skip
    assert sorted(messages[3]["data"]["nodes"]) == ["1", "2"]
    assert messages[4]["data"]["output"] == {"text": ["7"]}
    assert progress_states(messages) == [
        {"2": {"value": 1.0, "max": 1.0, "state": "finished", "node_id": "2", "prompt_id": prompt_id,
               "display_node_id": "2", "parent_node_id": None, "real_node_id": "2"}}
    ]  # fmt: skip
    assert history[prompt_id]["outputs"] == {"2": {"text": ["7"]}}  # cached outputs are in history too


async def test_node_error_reports_and_server_keeps_running(server):
    failing = {
        "1": {"class_type": "PrimitiveInt", "inputs": {"value": 5}},
        "f": {"class_type": "ServerTestFail", "inputs": {"value": ["1", 0]}},
        "out": {"class_type": "PreviewAny", "inputs": {"source": ["f", 0]}},
    }
    async with aiohttp.ClientSession(server.url) as session:
        ws = await connect(session)
        prompt_id = await submit(session, failing, ws.sid)
        messages = await ws.until_done(prompt_id)
        _, history = await get(session, f"/history/{prompt_id}")
        again = await submit(session, failing, ws.sid)  # the cache kept node 1
        second = await ws.until_done(again)
    assert kinds(messages) == [
        "status", "status", "execution_start", "execution_cached",
        "progress_state", "executing", "progress_state",
        "progress_state", "executing", "execution_error", "status", "executing",
    ]  # fmt: skip
    error = next(m["data"] for m in messages if m["type"] == "execution_error")
    assert error["node_id"] == "f" and error["node_type"] == "ServerTestFail"
    assert (
        error["exception_type"] == "RuntimeError" and error["exception_message"] == "this node always fails"
    )
    assert error["executed"] == ["1"] and error["traceback"]
    assert set(error) >= {"current_inputs", "current_outputs", "timestamp", "prompt_id"}
    entry = history[prompt_id]
    assert entry["status"]["status_str"] == "error" and entry["status"]["completed"] is False
    assert [name for name, _ in entry["status"]["messages"]] == [
        "execution_start", "execution_cached", "execution_error",
    ]  # fmt: skip
    cached = next(m["data"]["nodes"] for m in second if m["type"] == "execution_cached")
    assert cached == ["1"]


async def test_interrupt_by_prompt_id(server):
    async with aiohttp.ClientSession(server.url) as session:
        ws = await connect(session)
        prompt_id = await submit(session, sleeper(2000, 5), ws.sid)
        await ws.until(lambda m: isinstance(m, dict) and m["type"] == "progress")
        status, _ = await post(session, "/interrupt", {"prompt_id": "some-other-prompt"})
        assert status == 200
        status, _ = await post(session, "/interrupt", {"prompt_id": prompt_id})
        assert status == 200
        messages = await ws.until_done(prompt_id)
        _, history = await get(session, f"/history/{prompt_id}")
    tail = [k for k in kinds(messages) if k not in ("progress", "progress_state")]
    assert tail == ["execution_interrupted", "status", "executing"]
    interrupted = next(m["data"] for m in messages if m["type"] == "execution_interrupted")
    assert interrupted["node_id"] == "s" and interrupted["node_type"] == "ServerTestSleep"
    entry = history[prompt_id]
    assert entry["status"]["status_str"] == "error"
    assert entry["status"]["messages"][-1][0] == "execution_interrupted"


async def test_interrupt_without_body_stops_the_running_prompt(server):
    async with aiohttp.ClientSession(server.url) as session:
        ws = await connect(session)
        prompt_id = await submit(session, sleeper(2000, 5, seed=1), ws.sid)
        await ws.until(lambda m: isinstance(m, dict) and m["type"] == "progress")
        async with session.post("/interrupt", data=b"not json") as response:
            assert response.status == 200
        messages = await ws.until_done(prompt_id)
    assert "execution_interrupted" in kinds(messages)


async def test_previews_type4_before_progress_and_type1_after(server):
    async with aiohttp.ClientSession(server.url) as session:
        modern = await connect(session, "modern", metadata=True)
        legacy = await connect(session, "legacy", metadata=False)
        prompt_id = await submit(session, sleeper(2, 0, seed=2, preview=True))  # no client: broadcast
        for socket in (modern, legacy):
            await socket.until(idle)
    sequence = [k for k in kinds(modern.received) if k in ("bin4", "progress")]
    assert sequence == ["bin4", "progress", "bin4", "progress"]
    frame = next(m for m in modern.received if isinstance(m, bytes))
    kind, length = struct.unpack(">II", frame[:8])
    meta = json.loads(frame[8 : 8 + length])
    assert kind == 4 and meta["node_id"] == "s" and meta["prompt_id"] == prompt_id
    assert meta["image_type"] == "image/jpeg" and meta["display_node_id"] == "s"
    assert frame[8 + length : 8 + length + 3] == b"\xff\xd8\xff"  # a JPEG
    legacy_sequence = [k for k in kinds(legacy.received) if k in ("bin1", "progress")]
    assert legacy_sequence == ["progress", "bin1", "progress", "bin1"]
    first_legacy = next(m for m in legacy.received if isinstance(m, bytes))
    assert struct.unpack(">II", first_legacy[:8]) == (1, 1) and first_legacy[8:11] == b"\xff\xd8\xff"


def idle(message):
    """The ``status`` message saying the queue is empty again."""
    return (
        isinstance(message, dict)
        and message["type"] == "status"
        and message["data"]["status"]["exec_info"]["queue_remaining"] == 0
    )


async def test_events_go_to_the_submitting_client_only(server):
    async with aiohttp.ClientSession(server.url) as session:
        alice = await connect(session, "alice")
        bob = await connect(session, "bob")
        prompt_id = await submit(session, sleeper(2, 0, seed=3), "alice")
        await alice.until_done(prompt_id)
        # bob sees the queue change but none of alice's run events
        await bob.until(idle)
    assert set(kinds(bob.received)) == {"status"}
    assert {"execution_start", "progress", "progress_state", "executed"} <= set(kinds(alice.received))


async def test_prompt_without_client_broadcasts_progress_only(server):
    async with aiohttp.ClientSession(server.url) as session:
        watcher = await connect(session)
        prompt_id = await submit(session, sleeper(2, 0, seed=4))
        await watcher.until(idle)
        _, history = await get(session, f"/history/{prompt_id}")
    seen = set(kinds(watcher.received))
    assert {"progress", "progress_state"} <= seen
    assert not seen & {"execution_start", "executing", "executed", "execution_success"}
    assert history[prompt_id]["status"]["status_str"] == "success"


async def test_progress_state_stays_bounded_on_a_long_chain(server):
    async with aiohttp.ClientSession(server.url) as session:
        ws = await connect(session)
        prompt_id = await submit(session, chain(300), ws.sid)
        messages = await ws.until_done(prompt_id)
    states = progress_states(messages)
    assert len(states) == 2 * 302  # a start and a finish per node
    assert max(len(nodes) for nodes in states) == 1  # a chain runs one node at a time
    running = [nid for nodes in states for nid, s in nodes.items() if s["state"] == "running"]
    assert running == ["0", *[str(i) for i in range(1, 301)], "out"]  # every node was shown running


async def test_reconnecting_owner_is_told_the_current_node(server):
    async with aiohttp.ClientSession(server.url) as session:
        ws = await connect(session, "owner")
        prompt_id = await submit(session, sleeper(2000, 5, seed=5), "owner")
        await ws.until(lambda m: m["type"] == "progress")
        again = await session.ws_connect("/ws?clientId=owner")
        first = json.loads((await again.receive(timeout=10)).data)
        second = json.loads((await again.receive(timeout=10)).data)
        await post(session, "/interrupt", {"prompt_id": prompt_id})
        await again.close()
    assert first["type"] == "status" and first["data"]["sid"] == "owner"
    assert second == {"type": "executing", "data": {"node": "s"}}


async def test_client_without_id_gets_one_and_flags_reply(server):
    async with aiohttp.ClientSession(server.url) as session:
        ws = await session.ws_connect("/api/ws")
        first = json.loads((await ws.receive(timeout=10)).data)
        await ws.send_str(json.dumps({"type": "feature_flags", "data": {"supports_preview_metadata": True}}))
        reply = json.loads((await ws.receive(timeout=10)).data)
        await ws.close()
    assert first["type"] == "status" and len(first["data"]["sid"]) == 32
    assert first["data"]["status"] == {"exec_info": {"queue_remaining": 0}}
    assert reply == {
        "type": "feature_flags",
        "data": {"supports_preview_metadata": True, "max_upload_size": 104857600},
    }
