"""A classic ComfyUI pack loaded from a folder talks to the server through ``PromptServer.instance``:
its routes are served, its messages and progress text reach the WebSocket, its on_prompt hook runs."""

from __future__ import annotations

import struct

import aiohttp

from graphflow.bootstrap import create_runtime

from .conftest import connect, get, post

PACK = """
from aiohttp import web
from server import PromptServer


@PromptServer.instance.routes.get("/hello_pack/ping")
async def ping(request):
    return web.json_response({"pong": True, "client": PromptServer.instance.client_id})


def tag(body):
    body.setdefault("extra_data", {})["hello_pack_saw_it"] = True
    return body


PromptServer.instance.add_on_prompt_handler(tag)


class Talk:
    CATEGORY = "testing"
    RETURN_TYPES = ("STRING",)
    FUNCTION = "go"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"text": ("STRING", {"default": "hi"})}, "hidden": {"unique_id": "UNIQUE_ID"}}

    def go(self, text, unique_id):
        PromptServer.instance.send_sync("hello_pack.said", {"text": text, "node": PromptServer.instance.last_node_id})
        PromptServer.instance.send_progress_text("thinking", unique_id)
        return {"ui": {"text": [text]}, "result": (text,)}


NODE_CLASS_MAPPINGS = {"HelloTalk": Talk}
"""


async def test_classic_pack_routes_messages_and_hooks(tmp_path, make_server):
    pack = tmp_path / "packs" / "hello_pack"
    pack.mkdir(parents=True)
    (pack / "__init__.py").write_text(PACK)
    runtime = create_runtime(tmp_path / "base", custom_node_dirs=[tmp_path / "packs"])
    server = make_server(runtime=runtime)
    async with aiohttp.ClientSession(server.url) as session:
        bare = await get(session, "/hello_pack/ping")
        mirrored = await get(session, "/api/hello_pack/ping")
        ws = await connect(session, "talker")
        status, reply = await post(
            session,
            "/prompt",
            {"prompt": {"t": {"class_type": "HelloTalk", "inputs": {"text": "yo"}}}, "client_id": "talker"},
        )
        messages = await ws.until_done(reply["prompt_id"])
        _, history = await get(session, f"/history/{reply['prompt_id']}")
    assert bare[0] == 200 and bare[1]["pong"] is True and mirrored[0] == 200
    assert status == 200
    said = next(m for m in messages if isinstance(m, dict) and m["type"] == "hello_pack.said")
    assert said["data"] == {"text": "yo", "node": "t"}
    frame = next(m for m in messages if isinstance(m, bytes))
    kind, length = struct.unpack(">II", frame[:8])
    assert (kind, frame[8 : 8 + length], frame[8 + length :]) == (3, b"t", b"thinking")
    entry = history[reply["prompt_id"]]
    assert entry["outputs"] == {"t": {"text": ["yo"]}}
    assert entry["prompt"][3]["hello_pack_saw_it"] is True
