"""Server figures, measured against a real ``graphflow serve`` process on 127.0.0.1. Prints, asserts nothing.

    python bench/bench_server.py            # everything
    python bench/bench_server.py chain      # one section: start, chain, bytes, submit

- start:  process start → ready line, and idle RSS after start-up and after a first prompt
- chain:  EmptyImage 8×8 → N × ImageInvert → PreviewAny over HTTP with the WebSocket attached, from the
          POST until ``executing`` null (fresh runs, then a fully cached re-run)
- bytes:  WebSocket bytes per prompt for 250 … 2000 nodes (and what ComfyUI's full progress_state map
          would have sent for the same run)
- submit: tiny prompts accepted per second (each answered only after its SQLite commit), 64 in flight
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import psutil

READY = re.compile(r"graphflow: ready at (http://127\.0\.0\.1:\d+)/")


class Server:
    def __init__(self, base: Path) -> None:
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "graphflow.cli.main",
                "serve",
                "--port",
                "0",
                "--base-directory",
                str(base),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        for line in self.process.stdout:
            match = READY.search(line)
            if match:
                self.url = match.group(1)
                self.ready_seconds = time.perf_counter() - self.started
                return
        raise RuntimeError("the server did not start")

    def rss_mb(self) -> float:
        return psutil.Process(self.process.pid).memory_info().rss / 2**20

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(60)


def chain(length: int, color: int) -> dict:
    prompt = {
        "0": {
            "class_type": "EmptyImage",
            "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": color},
        }
    }
    for index in range(1, length + 1):
        prompt[str(index)] = {"class_type": "ImageInvert", "inputs": {"image": [str(index - 1), 0]}}
    prompt["out"] = {"class_type": "PreviewAny", "inputs": {"source": [str(length), 0]}}
    return prompt


async def run_once(session, ws, prompt, keep: bool = False) -> tuple[float, int, list]:
    """Seconds from POST to ``executing`` null, WebSocket bytes received, and the JSON messages."""
    body = json.dumps({"prompt": prompt, "client_id": "bench"})
    received, messages = 0, []
    start = time.perf_counter()
    async with session.post("/prompt", data=body, headers={"Content-Type": "application/json"}) as response:
        prompt_id = (await response.json())["prompt_id"]
    while True:
        frame = await ws.receive()
        if frame.type != aiohttp.WSMsgType.TEXT:
            received += len(frame.data)
            continue
        received += len(frame.data.encode())
        if keep:
            messages.append(frame.data)
        # parse only what might be the final message: the client should not be the bottleneck measured
        if '"node":null' in frame.data:
            data = json.loads(frame.data)["data"]
            if data.get("prompt_id") == prompt_id:
                return time.perf_counter() - start, received, [json.loads(m) for m in messages]


def comfyui_progress_state_bytes(messages: list) -> int:
    """Bytes ComfyUI would send for progress_state: the map of every node started so far, every time."""
    seen: dict = {}
    total = 0
    for message in messages:
        if message["type"] == "progress_state":
            seen.update(message["data"]["nodes"])
            full = {
                "type": "progress_state",
                "data": {"prompt_id": message["data"]["prompt_id"], "nodes": seen},
            }
            total += len(json.dumps(full))
    return total


async def connect(session):
    ws = await session.ws_connect("/ws?clientId=bench")
    await ws.receive()
    await ws.send_str(json.dumps({"type": "feature_flags", "data": {"supports_preview_metadata": True}}))
    await ws.receive()
    return ws


async def bench_chain(url: str) -> None:
    async with aiohttp.ClientSession(url) as session:
        ws = await connect(session)
        await run_once(session, ws, chain(1000, 999))  # warm-up: first-use imports and caches
        times = []
        for color in range(10):
            seconds, _, _ = await run_once(session, ws, chain(1000, color))
            times.append(seconds * 1000)
        cached, _, _ = await run_once(session, ws, chain(1000, 0))
        print(
            f"chain 1000 nodes, POST → executing null: median {statistics.median(times):.1f} ms, "
            f"min {min(times):.1f} ms, max {max(times):.1f} ms (10 fresh runs); fully cached {cached * 1000:.1f} ms"
        )
        await ws.close()


async def bench_bytes(url: str) -> None:
    async with aiohttp.ClientSession(url) as session:
        ws = await connect(session)
        print("nodes   ws bytes/prompt   bytes/node   ComfyUI full-map progress_state bytes")
        for length in (250, 500, 1000, 2000):
            _, received, messages = await run_once(session, ws, chain(length - 2, 5000 + length), keep=True)
            full = comfyui_progress_state_bytes(messages)
            print(f"{length:5d}   {received:15,d}   {received / length:10.1f}   {full:,d}")
        await ws.close()


async def bench_submit(url: str, count: int = 3000, in_flight: int = 64) -> None:
    async with aiohttp.ClientSession(url, connector=aiohttp.TCPConnector(limit=in_flight)) as session:
        bodies = [
            json.dumps(
                {
                    "prompt": {
                        "1": {"class_type": "PrimitiveInt", "inputs": {"value": i}},
                        "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}},
                    }
                }
            )  # fmt: skip
            for i in range(count)
        ]
        semaphore = asyncio.Semaphore(in_flight)

        async def submit(body: str) -> int:
            async with (
                semaphore,
                session.post("/prompt", data=body, headers={"Content-Type": "application/json"}) as r,
            ):
                await r.read()
                return r.status

        start = time.perf_counter()
        statuses = await asyncio.gather(*(submit(body) for body in bodies))
        seconds = time.perf_counter() - start
        accepted = statuses.count(200)
        print(
            f"submit: {accepted}/{count} tiny prompts accepted durably in {seconds:.2f} s = {accepted / seconds:.0f}/s"
        )
        while True:
            async with session.get("/prompt") as r:
                if (await r.json())["exec_info"]["queue_remaining"] == 0:
                    break
            await asyncio.sleep(0.2)
        print(f"        all {count} executed {time.perf_counter() - start:.2f} s after the first submission")


def main() -> None:
    sections = sys.argv[1:] or ["start", "chain", "bytes", "submit"]
    with tempfile.TemporaryDirectory() as base:
        server = Server(Path(base))
        try:
            if "start" in sections:
                time.sleep(1.0)
                print(
                    f"start: ready {server.ready_seconds:.2f} s after process start; idle RSS {server.rss_mb():.0f} MB"
                )
            if "chain" in sections:
                asyncio.run(bench_chain(server.url))
            if "bytes" in sections:
                asyncio.run(bench_bytes(server.url))
            if "submit" in sections:
                asyncio.run(bench_submit(server.url))
            if "start" in sections:
                print(f"RSS after the benchmarks: {server.rss_mb():.0f} MB")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
