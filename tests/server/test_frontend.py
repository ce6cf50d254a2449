"""The editor's files over HTTP: index and caching, CSP, source maps, traversal, content types, templates,
the pre-seeded settings and the token link (comfy-wire.md §5)."""

from __future__ import annotations

import gzip
import json
import os

import aiohttp
import pytest
from graphflow.server import frontend
from graphflow.server.app import create_app
from graphflow.server.config import ServerConfig

from .conftest import ServerThread, get, test_runtime

STATIC = frontend.find_static_dir()
needs_package = pytest.mark.skipif(STATIC is None, reason="comfyui-frontend-package is not installed")
SHIPPED = sorted(p.stem for p in frontend.templates.SHIPPED_WORKFLOWS.glob("*.json"))


@pytest.fixture
def start(tmp_path):
    """``start(config=None, **setup)``: a server whose front end is set up with ``setup_frontend(**setup)``."""
    started = []

    def run(config: ServerConfig | None = None, **setup) -> ServerThread:
        app = create_app(test_runtime(tmp_path / "base"), config or ServerConfig(port=0), frontend=False)
        frontend.setup_frontend(app, **setup)
        started.append(ServerThread(app).start())
        return started[-1]

    yield run
    for server in started:
        server.stop()


def _asset(suffix: str) -> str:
    return next(p.name for p in sorted((STATIC / "assets").iterdir()) if p.name.endswith(suffix))


@needs_package
async def test_index_is_the_packages_page_uncached_with_a_csp(start):
    server = start()
    async with aiohttp.ClientSession(server.url) as session, session.get("/") as response:
        body = await response.read()
        headers = response.headers
    assert response.status == 200 and headers["Content-Type"].startswith("text/html")
    assert body == (STATIC / "index.html").read_bytes()  # unmodified
    assert headers["Cache-Control"] == "no-cache"
    csp = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
    assert csp["default-src"] == "'self'" and csp["object-src"] == "'none'"
    assert "'sha256-" in csp["script-src"] and "unsafe-inline" not in csp["script-src"]
    assert csp["connect-src"] == "'self'" and "blob:" in csp["img-src"] and "data:" in csp["img-src"]


@needs_package
async def test_assets_have_their_types_and_hashed_ones_are_cached(start):
    server = start()
    async with aiohttp.ClientSession(server.url) as session:
        answers = {}
        for path in (
            f"/assets/{_asset('.js')}",
            f"/assets/{_asset('.css')}",
            "/fonts/inter-latin-normal.woff2",
            "/scripts/app.js",
            "/materialdesignicons.min.css",
            "/extensions/core/editAttention.js",
        ):
            async with session.get(path) as response:
                await response.read()
                answers[path] = (response.status, response.content_type, response.headers["Cache-Control"])
    types = [answer[1] for answer in answers.values()]
    assert all(answer[0] == 200 for answer in answers.values()), answers
    assert types == [
        "text/javascript",
        "text/css",
        "font/woff2",
        "text/javascript",
        "text/css",
        "text/javascript",
    ]
    assert answers[f"/assets/{_asset('.js')}"][2] == frontend.IMMUTABLE
    assert answers["/scripts/app.js"][2] == "no-cache"


@needs_package
async def test_source_maps_are_never_served(start):
    server = start()
    name = _asset(".js.map")
    assert (STATIC / "assets" / name).is_file()
    async with aiohttp.ClientSession(server.url) as session:
        status, _ = await get(session, f"/assets/{name}")
    assert status == 404


async def test_paths_outside_the_static_root_are_refused(start, tmp_path):
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><title>t</title>")
    (static / "assets" / "ok.js").write_text("export {}")
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    os.symlink(secret, static / "assets" / "link.js")
    server = start(static_dir=static)
    attempts = [
        "/assets/../secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt",
        "/assets/%252e%252e%252fsecret.txt", "/assets/..%5c..%5csecret.txt", "/assets/%00.js",
        "/assets//etc/passwd", "/assets/link.js", "/graphflow/web/..%2f..%2fsecurity.py",
    ]  # fmt: skip
    async with aiohttp.ClientSession(server.url) as session:
        results = {}
        for path in attempts:
            async with session.get(path) as response:
                results[path] = (response.status, await response.text())
        ok, _ = await get(session, "/assets/ok.js")
    assert ok == 200
    for path, (status, text) in results.items():
        assert 400 <= status < 500, (path, status)
        assert "SECRET" not in text and "root:" not in text and "hmac" not in text, path


async def test_without_the_package_a_page_says_how_to_install_it(start, monkeypatch):
    monkeypatch.setattr(frontend, "find_static_dir", lambda: None)
    server = start()
    async with aiohttp.ClientSession(server.url) as session:
        status, text = await get(session, "/")
    assert status == 200 and "pip install comfyui-frontend-package" in text


async def test_templates_list_and_open_the_shipped_workflows(start):
    server = start()
    async with aiohttp.ClientSession(server.url) as session:
        status, index = await get(session, "/templates/index.json")
        _, localized = await get(session, "/templates/index.fr.json")
        _, logos = await get(session, "/templates/index_logo.json")
        _, api_format = await get(session, "/templates/txt2img.json")
        _, editor_format = await get(session, "/templates/txt2img_editor.json")
        async with session.get("/templates/txt2img-1.svg") as response:
            svg = (response.status, response.content_type, await response.text())
        missing, _ = await get(session, "/templates/no_such_workflow.json")
        traversal, _ = await get(session, "/templates/..%2fpyproject.json")
    assert status == 200 and localized == index and logos == {}
    [category] = index
    names = [t["name"] for t in category["templates"]]
    assert category["moduleName"] == "default" and names[0] == "txt2img_editor"
    assert sorted(names) == SHIPPED
    assert all(t["mediaSubtype"] == "svg" and t["description"] for t in category["templates"])
    # an API-format workflow is converted so the editor can open it; editor-format ones are as shipped
    assert {n["type"] for n in api_format["nodes"]} >= {"KSampler", "SaveImage"} and api_format["links"]
    shipped = json.loads((frontend.templates.SHIPPED_WORKFLOWS / "txt2img_editor.json").read_text())
    assert editor_format == shipped
    assert svg[0] == 200 and svg[1] == "image/svg+xml" and "KSampler" in svg[2]
    assert (missing, traversal) == (404, 404)


async def test_first_load_settings_and_files_the_editor_asks_for(start):
    server = start()
    async with aiohttp.ClientSession(server.url) as session:
        _, settings = await get(session, "/api/settings")
        _, extensions = await get(session, "/api/extensions")
        async with session.get("/api/userdata/user.css") as response:
            css = (response.status, response.content_type, await response.text())
        _, node_templates = await get(session, "/api/userdata/comfy.templates.json")
        _, workflows = await get(session, "/api/userdata?dir=workflows&recurse=true&full_info=true")
        status, script = await get(session, extensions[0])
    assert settings["Comfy.TutorialCompleted"] is True
    assert settings["Comfy.Notification.ShowVersionUpdates"] is False
    assert extensions[0] == frontend.EXTENSION_URL and status == 200 and "registerExtension" in script
    assert css == (200, "text/css", "") and node_templates == [] and workflows == []


async def test_the_token_link_sets_the_cookie_and_leaves_the_address_bar(start):
    token = "t" * 32
    server = start(ServerConfig(port=0, token=token))
    jar = aiohttp.CookieJar(unsafe=True)  # keep cookies from an IP address, as a browser does
    async with aiohttp.ClientSession(server.url, cookie_jar=jar) as session:
        async with session.get("/", headers={"Accept": "text/html"}) as response:
            refused = (response.status, response.content_type, await response.text())
        async with session.get(f"/?token={token}&template=x", allow_redirects=False) as response:
            link = (response.status, response.headers["Location"], response.cookies["graphflow_token"])
        status, _ = await get(session, "/api/settings")  # the session now carries the cookie
    assert refused[0] == 401 and refused[1] == "text/html" and "access token" in refused[2]
    assert link[0] == 303 and link[1] == "/?template=x"
    assert link[2].value == token and link[2]["httponly"] and link[2]["samesite"] == "Strict"
    assert status == 200


@needs_package
async def test_hashed_assets_are_gzipped_once_for_clients_that_accept_it(start):
    server = start()
    name = max(
        (p for p in (STATIC / "assets").iterdir() if p.suffix == ".js"), key=lambda p: p.stat().st_size
    ).name
    original = (STATIC / "assets" / name).read_bytes()
    async with aiohttp.ClientSession(server.url, auto_decompress=False) as session:
        async with session.get(f"/assets/{name}", headers={"Accept-Encoding": "gzip"}) as response:
            zipped = (response.headers.get("Content-Encoding"), response.content_type, await response.read())
        async with session.get(f"/assets/{name}", headers={"Accept-Encoding": "identity"}) as response:
            plain = (response.headers.get("Content-Encoding"), await response.read())
    assert zipped[0] == "gzip" and zipped[1] == "text/javascript"
    assert gzip.decompress(zipped[2]) == original and len(zipped[2]) < len(original) / 2
    assert plain == (None, original)
