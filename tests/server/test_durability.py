"""Durability with a real server process: SIGKILL it mid-run, restart it, and every accepted prompt runs.

The prompt that was running when the process died runs again and its history says so; prompts that were
pending keep their order; prompts answered 200 just before the kill are not lost.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import aiohttp
import pytest

from .conftest import Socket, get, post, sleeper
from .process import READY, REPO, ServerProcess


@pytest.fixture
def processes():
    started: list[ServerProcess] = []
    yield started
    for process in started:
        if process.process.poll() is None:
            process.kill()


async def wait_all(session, ids, timeout=120.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        _, history = await get(session, "/history")
        if all(pid in history for pid in ids):
            return history
        assert asyncio.get_running_loop().time() < deadline, (
            f"missing: {[p for p in ids if p not in history]}"
        )
        await asyncio.sleep(0.1)


@pytest.mark.slow
async def test_sigkill_mid_run_loses_nothing(tmp_path, processes):
    base = tmp_path / "base"
    first = ServerProcess(base)
    processes.append(first)
    async with aiohttp.ClientSession(first.url) as session:
        ws = Socket(await session.ws_connect("/ws?clientId=watcher"))
        await ws.next()
        slow_ids = []
        for seed in range(5):
            status, reply = await post(
                session,
                "/prompt",
                {"prompt": sleeper(40, 25, seed=seed), "client_id": "watcher", "prompt_id": f"slow{seed}"},
            )
            assert status == 200, reply
            slow_ids.append(reply["prompt_id"])
        await ws.until_done("slow0")
        await ws.until(lambda m: m["type"] == "progress" and m["data"]["prompt_id"] == "slow1")
        burst = await asyncio.gather(
            *(
                post(session, "/prompt", {"prompt": sleeper(1, 0, seed=1000 + i), "prompt_id": f"tiny{i}"})
                for i in range(40)
            )
        )
        assert all(status == 200 for status, _ in burst)
        _, before = await get(session, "/history")
    first.kill()  # SIGKILL while slow1 runs
    assert list(before) == ["slow0"]

    second = ServerProcess(base)
    processes.append(second)
    tiny_ids = [f"tiny{i}" for i in range(40)]
    async with aiohttp.ClientSession(second.url) as session:
        history = await wait_all(session, slow_ids + tiny_ids)
    assert second.stop() == 0
    for pid in slow_ids + tiny_ids:
        entry = history[pid]
        assert entry["status"]["status_str"] == "success", (pid, entry["status"])
    assert [o["text"] for o in (history[f"slow{s}"]["outputs"]["out"] for s in range(5))] == [
        [str(s)] for s in range(5)
    ]
    requeued = [pid for pid in history if history[pid]["status"]["messages"][0][0] == "execution_requeued"]
    assert requeued == ["slow1"]  # only the prompt that was running
    note = history["slow1"]["status"]["messages"][0][1]
    assert note["prompt_id"] == "slow1" and "ran again" in note["reason"]
    order = [pid for pid in history if pid.startswith("slow")]
    assert order == slow_ids  # slow0 kept from the first run, then the re-run, then the pending ones in order


@pytest.mark.slow
async def test_graceful_stop_requeues_the_running_prompt(tmp_path, processes):
    base = tmp_path / "base"
    first = ServerProcess(base)
    processes.append(first)
    async with aiohttp.ClientSession(first.url) as session:
        ws = Socket(await session.ws_connect("/ws?clientId=w"))
        await ws.next()
        await post(
            session, "/prompt", {"prompt": sleeper(400, 25, seed=7), "client_id": "w", "prompt_id": "long"}
        )
        await ws.until(lambda m: m["type"] == "progress")
    assert first.stop() == 0  # SIGTERM: the running prompt is cancelled and put back in the queue
    second = ServerProcess(base)
    processes.append(second)
    async with aiohttp.ClientSession(second.url) as session:
        _, queue = await get(session, "/queue")
        await post(session, "/interrupt", {"prompt_id": "long"})
        history = await wait_all(session, ["long"])
    assert [item[1] for item in queue["queue_running"] + queue["queue_pending"]] == ["long"]
    names = [name for name, _ in history["long"]["status"]["messages"]]
    assert names[0] == "execution_requeued" and names[-1] == "execution_interrupted"


@pytest.mark.slow
async def test_listening_beyond_loopback_prints_a_token_url(tmp_path):
    base = tmp_path / "base"
    process = subprocess.Popen(
        [sys.executable, "-m", "graphflow.cli.main", "serve", "--listen", "0.0.0.0", "--port", "0",
         "--base-directory", str(base)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "token" in line:
                break
        ready = next(READY.search(line) for line in lines if READY.search(line))
        url = ready.group(1)
        token = (base / "user" / "graphflow_token.txt").read_text().strip()
        assert f"{url}/?token={token}" in lines[-1]
        async with aiohttp.ClientSession(url) as session:
            refused = await session.get("/api/queue")
            allowed = await session.get("/api/queue", headers={"Authorization": f"Bearer {token}"})
        assert (refused.status, allowed.status) == (401, 200)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
