"""Hostile requests: path traversal at every file route, cross-site requests, tokens, size limits, and
the guarantee that an unexpected server bug is a logged 500 (never a user's mistake)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from graphflow.server.app import create_app
from graphflow.server.config import ServerConfig
from graphflow.server.security import TOKEN_COOKIE, load_or_create_token
from yarl import URL

from graphflow.registry import PackStatus

from .conftest import ServerThread, test_runtime
from .test_files import png, raw_multipart

SECRET = b"SENTINEL-SECRET-CONTENT"


@pytest.fixture
def fortress(tmp_path, make_server):
    """A server whose folders contain symlinks pointing at ``outside/`` (which holds a sentinel file)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "sentinel.txt").write_bytes(SECRET)
    (outside / "sentinel.png").write_bytes(png((1, 2, 3)))
    (outside / "m.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00" + b'{"__metadata__":{}}'[:16])
    pack_dir = tmp_path / "base" / "custom_nodes" / "webpack"
    (pack_dir / "web").mkdir(parents=True)
    (pack_dir / "web" / "main.js").write_text("export {};")
    (pack_dir / "example_workflows").mkdir()
    (pack_dir / "example_workflows" / "demo.json").write_text("{}")
    runtime = test_runtime(tmp_path / "base")
    runtime.registry.add_pack(
        PackStatus("webpack", str(pack_dir), "native", web_directory=str(pack_dir / "web"))
    )
    server = make_server(runtime=runtime)
    paths = runtime.paths
    roots = [
        paths.input,
        paths.output,
        paths.temp,
        server.state.user_dir,
        server.state.user_dir / "workflows",
    ]
    roots += [pack_dir / "web", pack_dir / "example_workflows", paths.models / "checkpoints"]
    for root in roots:
        root.mkdir(parents=True, exist_ok=True)
        (root / "link").symlink_to(outside, target_is_directory=True)
        (root / "leak.txt").symlink_to(outside / "sentinel.txt")
        (root / "leak.png").symlink_to(outside / "sentinel.png")
        (root / "leak.json").symlink_to(outside / "sentinel.txt")
    return server, outside


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# Names that must never reach outside/, as they would appear after one round of URL decoding.
NAMES = [
    "..",
    "../sentinel.txt",
    "../../outside/sentinel.txt",
    "%2e%2e/sentinel.txt",
    "%252e%252e%252fsentinel.txt",
    "..%2fsentinel.txt",
    "link/sentinel.txt",
    "link/../link/sentinel.txt",
    "leak.txt",
    "leak.png",
    "leak.json",
    "/etc/passwd",
    "{outside}/sentinel.txt",
    "..\\sentinel.txt",
    "a\\..\\..\\sentinel.txt",
    "C:\\Windows\\win.ini",
    "a\x00b",
    "link",
]
# Names that escape (or try to) whatever route they reach; percent-encoded names are just odd literal names.
ESCAPING = {n for n in NAMES if "%" not in n}
ENCODED_SEGMENTS = [
    "..%2Fsentinel.txt",
    "%2e%2e%2Fsentinel.txt",
    "%252e%252e%252Fsentinel.txt",
    "link%2Fsentinel.txt",
    "leak.txt",
    "leak.json",
    "%2Fetc%2Fpasswd",
    "..%5Csentinel.txt",
    "a%00b",
]


def q(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def read_requests(outside: Path) -> list[tuple[str, str]]:
    """(method, raw URL) pairs that try to read outside the roots."""
    names = [n.replace("{outside}", str(outside)) for n in NAMES]
    requests: list[tuple[str, str]] = []
    for name in names:
        for kind in ("output", "input", "temp"):
            requests.append(("GET", f"/view?filename={q(name)}&type={kind}"))
            requests.append(("GET", f"/api/view?filename=x.png&subfolder={q(name)}&type={kind}"))
        requests.append(("GET", f"/view?filename={q(name)}&preview=webp%3B90"))
        requests.append(("GET", f"/view?filename={q(name)}&channel=a"))
        requests.append(("GET", f"/view?filename={q(name + ' [input]')}"))
        requests.append(("GET", f"/userdata?dir={q(name)}&recurse=true"))
        requests.append(("GET", f"/v2/userdata?path={q(name)}"))
        requests.append(("GET", f"/view_metadata/checkpoints?filename={q(name + '.safetensors')}"))
        requests.append(("GET", f"/view_metadata/{q(name)}?filename=m.safetensors"))
    for segment in ENCODED_SEGMENTS:
        requests.append(("GET", f"/userdata/{segment}"))
        requests.append(("GET", f"/api/userdata/workflows%2F{segment}"))
        requests.append(("GET", f"/extensions/webpack/{segment}"))
        requests.append(("GET", f"/extensions/{segment}/main.js"))
        requests.append(("GET", f"/api/workflow_templates/webpack/{segment}"))
        requests.append(("GET", f"/experiment/models/preview/checkpoints/0/{segment}"))
        requests.append(("GET", f"/internal/files/{segment}"))
    for raw in ("/extensions/webpack/../../outside/sentinel.txt", "/extensions/webpack/link/sentinel.txt"):
        requests.append(("GET", raw))
    return requests


async def test_traversal_reads_are_refused(fortress):
    server, outside = fortress
    statuses = set()
    async with aiohttp.ClientSession() as session:
        for method, path in read_requests(outside):
            async with session.request(method, URL(server.url + path, encoded=True)) as response:
                body = await response.read()
                assert 400 <= response.status < 500, (path, response.status)
                assert SECRET not in body, path
                statuses.add(response.status)
        # the same routes do serve legitimate files
        async with session.get(server.url + "/extensions/webpack/main.js") as response:
            assert response.status == 200
        async with session.get(server.url + "/api/workflow_templates/webpack/demo.json") as response:
            assert response.status == 200
    assert statuses <= {400, 403, 404}


async def test_traversal_writes_are_refused(fortress, tmp_path):
    server, outside = fortress
    before = snapshot(outside)
    top_before = sorted(p.name for p in tmp_path.iterdir())
    async with aiohttp.ClientSession() as session:
        for name in NAMES:
            name = name.replace("{outside}", str(outside))
            for subfolder in ("", name):
                filename = "x.png" if subfolder else name
                if '"' in filename or "\r" in filename or "\n" in filename:
                    continue
                body, content_type = raw_multipart(
                    filename, png((7, 7, 7)), subfolder=subfolder, overwrite="true"
                )
                for route in ("/upload/image", "/upload/mask"):
                    fields_body = body
                    if route == "/upload/mask":
                        ref = '{"filename": "leak.png", "subfolder": "", "type": "input"}'
                        fields_body, content_type = raw_multipart(filename, png((7, 7, 7)), original_ref=ref)
                    async with session.post(
                        server.url + route, data=fields_body, headers={"Content-Type": content_type}
                    ) as response:
                        await response.read()
                        if route == "/upload/mask" or name in ESCAPING:
                            assert 400 <= response.status < 500, (route, name, response.status)
        for segment in ENCODED_SEGMENTS:
            for method, path in (
                ("POST", f"/userdata/{segment}"),
                ("POST", f"/userdata/workflows%2F{segment}?overwrite=true"),
                ("DELETE", f"/userdata/{segment}"),
                ("POST", f"/userdata/{segment}/move/workflows%2Fmoved.json"),
                ("POST", f"/userdata/workflows%2Fx.json/move/{segment}"),
            ):
                if method == "POST" and "/move/" in path and path.startswith("/userdata/workflows"):
                    async with session.post(server.url + "/userdata/workflows%2Fx.json", data=b"victim") as r:
                        assert r.status == 200
                url = URL(server.url + path, encoded=True)
                async with session.request(method, url, data=b"PWNED") as response:
                    await response.read()
                    literal = segment.startswith("%25")  # one decoding leaves an odd but plain name
                    inside = "workflows%2F%2F" in path  # "workflows//etc/passwd" stays in the folder
                    if not literal and not inside:
                        assert 400 <= response.status < 500, (method, path, response.status)
    assert snapshot(outside) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == top_before
    for path in tmp_path.rglob("*"):
        if path.is_file() and not path.is_symlink() and "base" not in path.relative_to(tmp_path).parts[:1]:
            assert b"PWNED" not in path.read_bytes(), path


async def test_cross_site_requests_are_refused(server):
    port = server.port
    async with aiohttp.ClientSession(server.url) as session:
        evil = await session.get("/queue", headers={"Origin": "http://evil.example"})
        other_port = await session.get("/queue", headers={"Origin": f"http://127.0.0.1:{port + 1}"})
        same = await session.get("/queue", headers={"Origin": f"http://127.0.0.1:{port}"})
        fetch_site = await session.post("/prompt", json={}, headers={"Sec-Fetch-Site": "cross-site"})
        rebinding = await session.get("/queue", headers={"Host": f"attacker.example:{port}"})
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect("/ws", headers={"Origin": "http://evil.example"})
        fine = await session.ws_connect("/ws", headers={"Origin": f"http://127.0.0.1:{port}"})
        await fine.close()
    assert (evil.status, other_port.status, same.status, fetch_site.status, rebinding.status) == (
        403,
        403,
        200,
        403,
        403,
    )
    assert refused.value.status == 403


async def test_token_required_beyond_loopback(make_server, tmp_path):
    token, created = load_or_create_token(tmp_path / "user")
    again, created_again = load_or_create_token(tmp_path / "user")
    assert created and not created_again and token == again and len(token) >= 32
    assert stat.S_IMODE(os.stat(tmp_path / "user" / "graphflow_token.txt").st_mode) == 0o600
    server = make_server(ServerConfig(port=0, listen="0.0.0.0", token=token))
    async with aiohttp.ClientSession(server.url) as anonymous:
        missing = await anonymous.get("/queue")
        wrong = await anonymous.get("/queue", headers={"Authorization": "Bearer nope"})
        wrong_query = await anonymous.get("/queue", params={"token": "nope"})
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await anonymous.ws_connect("/ws")
    async with aiohttp.ClientSession(server.url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        bearer = await client.get("/queue", headers={"Authorization": f"Bearer {token}"})
        landing = await client.get("/", params={"token": token}, allow_redirects=False)  # 303 to /
        cookie = landing.cookies.get(TOKEN_COOKIE)
        with_cookie = await client.get("/queue")  # the cookie jar now holds the token
        socket = await client.ws_connect("/ws")
        await socket.close()
    assert (missing.status, wrong.status, wrong_query.status) == (401, 401, 401)
    assert bearer.status == 200 and landing.status == 303 and with_cookie.status == 200
    assert (
        cookie is not None and cookie.value == token and cookie["httponly"] and cookie["samesite"] == "Strict"
    )


async def test_body_size_limit(make_server):
    server = make_server(ServerConfig(port=0, max_upload_size=2048))
    big_prompt = {"prompt": {"1": {"class_type": "PrimitiveString", "inputs": {"value": "x" * 4096}}}}
    async with aiohttp.ClientSession(server.url) as session:
        too_big = await session.post("/prompt", json=big_prompt)
        form = aiohttp.FormData()
        form.add_field("image", b"\x00" * 4096, filename="big.png")
        too_big_upload = await session.post("/upload/image", data=form)
        features = await (await session.get("/features")).json()
    assert too_big.status == 413 and too_big_upload.status == 413
    assert features["max_upload_size"] == 2048


async def test_unexpected_errors_are_logged_500s(tmp_path, caplog):
    app = create_app(test_runtime(tmp_path / "base"), ServerConfig(port=0))

    async def broken(request: web.Request) -> web.Response:
        raise KeyError("internal detail")

    app.router.add_get("/broken", broken)
    server = ServerThread(app).start()
    try:
        with caplog.at_level(logging.ERROR, logger="graphflow.server.security"):
            async with aiohttp.ClientSession(server.url) as session, session.get("/broken") as response:
                status, body = response.status, await response.json()
    finally:
        server.stop()
    assert status == 500 and body["error"]["type"] == "internal_error"
    assert "internal detail" not in str(body)
    assert any("GET /broken" in r.getMessage() and r.exc_info for r in caplog.records)
