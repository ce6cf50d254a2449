"""A real server on 127.0.0.1 (own thread and event loop, real SQLite) and small async client helpers.

Test functions may be ``async def``: the hook below runs them with ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from graphflow.server.app import create_app
from graphflow.server.config import ServerConfig
from graphflow.server.state import STATE, ServerState

from graphflow.bootstrap import builtin_registry
from graphflow.context import Runtime
from graphflow.paths import Paths
from graphflow.registry import PackStatus

from .nodes_for_server import SERVER_TEST_NODES


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
        asyncio.run(asyncio.wait_for(pyfuncitem.obj(**args), timeout=120))
        return True
    return None


def test_runtime(base: Path) -> Runtime:
    registry = builtin_registry()
    pack = registry.add_pack(PackStatus("server_tests", "tests.server", "native"))
    registry.register_all(SERVER_TEST_NODES, pack=pack)
    return Runtime(registry, Paths.at(base).ensure())


test_runtime.__test__ = False  # a helper, not a test


class ServerThread:
    """Runs an aiohttp application on 127.0.0.1 (a free port) in a thread with its own event loop."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.port = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="test-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def state(self) -> ServerState:
        return self.app[STATE]

    def start(self) -> ServerThread:
        self._thread.start()
        self._ready.wait(60)
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        asyncio.set_event_loop(loop)
        runner = web.AppRunner(self.app, handle_signals=False, access_log=None)
        try:
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
            self.port = runner.addresses[0][1]
        except BaseException as error:
            self._error = error
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    def stop(self) -> None:
        if self.loop is not None and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(60)


@dataclass
class Servers:
    base: Path
    started: list[ServerThread]

    def __call__(self, config: ServerConfig | None = None, runtime: Runtime | None = None) -> ServerThread:
        config = config or ServerConfig(port=0)
        app = create_app(runtime or test_runtime(self.base), config)
        server = ServerThread(app).start()
        self.started.append(server)
        return server


@pytest.fixture
def make_server(tmp_path):
    """Start servers over ``tmp_path / "base"`` (one base directory, so a second server sees the same DB)."""
    servers = Servers(tmp_path / "base", [])
    yield servers
    for server in reversed(servers.started):
        server.stop()


@pytest.fixture
def server(make_server) -> ServerThread:
    return make_server()


# -- client helpers ----------------------------------------------------------------------------------------
async def read_body(response: aiohttp.ClientResponse) -> Any:
    text = await response.text()
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


async def get(session: aiohttp.ClientSession, path: str, **kwargs) -> tuple[int, Any]:
    async with session.get(path, **kwargs) as response:
        return response.status, await read_body(response)


async def post(session: aiohttp.ClientSession, path: str, body: Any = None, **kwargs) -> tuple[int, Any]:
    if body is not None:
        kwargs["json"] = body
    async with session.post(path, **kwargs) as response:
        return response.status, await read_body(response)


class Socket:
    """A WebSocket client that records every message (JSON frames as dicts, binary frames as bytes)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.sid: str | None = None
        self.received: list[Any] = []
        self.bytes_received = 0

    async def next(self, timeout: float = 30) -> Any:
        frame = await self.ws.receive(timeout=timeout)
        if frame.type == aiohttp.WSMsgType.TEXT:
            self.bytes_received += len(frame.data.encode())
            item = json.loads(frame.data)
        elif frame.type == aiohttp.WSMsgType.BINARY:
            self.bytes_received += len(frame.data)
            item = frame.data
        else:
            raise ConnectionError(f"socket closed: {frame.type!r}")
        self.received.append(item)
        return item

    async def until(self, predicate: Callable[[Any], bool], timeout: float = 60) -> list[Any]:
        """Messages up to and including the first that satisfies ``predicate``."""
        start = len(self.received)
        while True:
            item = await self.next(timeout)
            if predicate(item):
                return self.received[start:]

    async def until_done(self, prompt_id: str, timeout: float = 60) -> list[Any]:
        return await self.until(lambda m: is_done(m, prompt_id), timeout)


def is_done(item: Any, prompt_id: str) -> bool:
    return (
        isinstance(item, dict)
        and item["type"] == "executing"
        and item["data"].get("node") is None
        and item["data"].get("prompt_id") == prompt_id
    )


async def connect(
    session: aiohttp.ClientSession, client_id: str | None = None, *, metadata: bool | None = True
) -> Socket:
    """Open ``/ws``; read the connect ``status``; announce preview support unless ``metadata`` is None."""
    path = "/ws" if client_id is None else f"/ws?clientId={client_id}"
    socket = Socket(await session.ws_connect(path))
    first = await socket.next()
    assert first["type"] == "status"
    socket.sid = first["data"]["sid"]
    if metadata is not None:
        await socket.ws.send_str(
            json.dumps({"type": "feature_flags", "data": {"supports_preview_metadata": metadata}})
        )
        reply = await socket.next()
        assert reply["type"] == "feature_flags"
    socket.received.clear()
    return socket


def kinds(messages: list[Any]) -> list[str]:
    """Message types in order; binary frames appear as ``bin<type>``."""
    return [m["type"] if isinstance(m, dict) else f"bin{int.from_bytes(m[:4], 'big')}" for m in messages]


def chain(length: int, *, color: int = 0, size: int = 8) -> dict[str, Any]:
    """EmptyImage → ``length`` × ImageInvert → PreviewAny, ids "0" … str(length) and "out"."""
    prompt: dict[str, Any] = {
        "0": {
            "class_type": "EmptyImage",
            "inputs": {"width": size, "height": size, "batch_size": 1, "color": color},
        }
    }
    for index in range(1, length + 1):
        prompt[str(index)] = {"class_type": "ImageInvert", "inputs": {"image": [str(index - 1), 0]}}
    prompt["out"] = {"class_type": "PreviewAny", "inputs": {"source": [str(length), 0]}}
    return prompt


def sleeper(steps: int, step_ms: int, seed: int = 0, *, preview: bool = False) -> dict[str, Any]:
    """ServerTestSleep → PreviewAny (ids "s" and "out")."""
    return {
        "s": {
            "class_type": "ServerTestSleep",
            "inputs": {"steps": steps, "step_ms": step_ms, "seed": seed, "preview": preview},
        },
        "out": {"class_type": "PreviewAny", "inputs": {"source": ["s", 0]}},
    }
