"""Route shapes against comfy-wire.md §2–§3: prompt submission, queue, node info and the small JSON routes."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from graphflow.server.frontend import EDITOR_SETTINGS, EXTENSION_URL

from graphflow.workflow import api_to_editor

from .conftest import connect, get, post, sleeper

SMALL = {
    "1": {"class_type": "PrimitiveInt", "inputs": {"value": 7}},
    "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}},
}


async def wait_history(session, prompt_id, tries=400):
    for _ in range(tries):
        status, body = await get(session, f"/history/{prompt_id}")
        if body:
            return body[prompt_id]
        await asyncio.sleep(0.01)
    raise AssertionError(f"{prompt_id} never reached history")


async def test_prompt_success_shape_and_number_echo(server):
    async with aiohttp.ClientSession(server.url) as session:
        status, first = await post(session, "/prompt", {"prompt": SMALL})
        status2, second = await post(session, "/api/prompt", {"prompt": SMALL, "number": -50})
        status3, third = await post(session, "/prompt", {"prompt": SMALL, "prompt_id": "mine"})
        await wait_history(session, "mine")
    assert status == status2 == status3 == 200
    assert set(first) == {"prompt_id", "number", "node_errors"} and first["node_errors"] == {}
    assert isinstance(first["number"], int)
    assert second["number"] == -50.0 and isinstance(second["number"], float)
    assert third["prompt_id"] == "mine"
    assert len(first["prompt_id"]) == 36 and first["prompt_id"].count("-") == 4


async def test_prompt_errors(server):
    async with aiohttp.ClientSession(server.url) as session:
        no_prompt = await post(session, "/prompt", {"client_id": "x"})
        unknown = await post(
            session, "/prompt", {"prompt": {"1": {"class_type": "NoSuchNode", "inputs": {}}}}
        )
        no_outputs = await post(session, "/prompt", {"prompt": {"1": SMALL["1"]}})
        empty_targets = await post(session, "/prompt", {"prompt": SMALL, "partial_execution_targets": []})
        bad_value = await post(
            session,
            "/prompt",
            {"prompt": {"1": {"class_type": "PrimitiveInt", "inputs": {"value": "abc"}}, "2": SMALL["2"]}},
        )
    assert no_prompt == (
        400,
        {
            "error": {"type": "no_prompt", "message": "No prompt provided", "details": "No prompt provided",
                      "extra_info": {}},
            "node_errors": {},
        },
    )  # fmt: skip
    assert unknown[0] == 400 and unknown[1]["error"]["type"] == "invalid_prompt"
    assert unknown[1]["error"]["message"] == "Cannot execute because node NoSuchNode does not exist."
    assert unknown[1]["error"]["details"] == "Node ID '#1'" and unknown[1]["node_errors"] == {}
    assert no_outputs[0] == 400 and no_outputs[1]["error"]["type"] == "prompt_no_outputs"
    assert empty_targets[0] == 400 and empty_targets[1]["error"]["type"] == "prompt_no_outputs"
    assert bad_value[0] == 400 and bad_value[1]["error"]["type"] == "prompt_outputs_failed_validation"
    (problem,) = bad_value[1]["node_errors"]["1"]["errors"]
    assert problem["type"] == "invalid_input_type" and bad_value[1]["node_errors"]["1"][
        "dependent_outputs"
    ] == ["2"]


async def test_partial_failure_is_a_200_with_node_errors(server):
    prompt = {
        **SMALL,
        "3": {"class_type": "PrimitiveInt", "inputs": {"value": "nope"}},
        "4": {"class_type": "PreviewAny", "inputs": {"source": ["3", 0]}},
    }
    async with aiohttp.ClientSession(server.url) as session:
        status, reply = await post(session, "/prompt", {"prompt": prompt})
        entry = await wait_history(session, reply["prompt_id"])
    assert status == 200 and list(reply["node_errors"]) == ["3"]
    assert entry["prompt"][4] == ["2"] and entry["outputs"] == {"2": {"text": ["7"]}}


async def test_duplicate_prompt_id_is_409(server):
    async with aiohttp.ClientSession(server.url) as session:
        first = await post(session, "/prompt", {"prompt": SMALL, "prompt_id": "dup"})
        await wait_history(session, "dup")
        second = await post(session, "/prompt", {"prompt": SMALL, "prompt_id": "dup"})
    assert first[0] == 200
    assert second[0] == 409 and second[1]["error"]["type"] == "duplicate_prompt_id"


async def test_editor_workflow_is_converted(server):
    editor = api_to_editor(SMALL, server.state.object_info())
    async with aiohttp.ClientSession(server.url) as session:
        status, reply = await post(session, "/prompt", {"prompt": editor})
        entry = await wait_history(session, reply["prompt_id"])
        bare_status, bare = await post(session, "/prompt", editor)  # the saved file itself, as the body
        unknown_editor = {
            **editor,
            "nodes": [{**editor["nodes"][0], "type": "Missing"}, *editor["nodes"][1:]],
        }
        unknown = await post(session, "/prompt", {"prompt": unknown_editor})
    assert status == 200 and bare_status == 200, (reply, bare)
    assert entry["status"]["status_str"] == "success"
    assert list(entry["outputs"].values()) == [{"text": ["7"]}]
    assert entry["prompt"][3]["extra_pnginfo"]["workflow"]["nodes"] == editor["nodes"]
    assert unknown[0] == 400 and unknown[1]["error"]["type"] == "invalid_prompt"
    assert unknown[1]["error"]["extra_info"]["missing_nodes"][0]["class_type"] == "Missing"


async def test_queue_order_front_and_delete(server):
    blocker = sleeper(2000, 5, seed=11)
    async with aiohttp.ClientSession(server.url) as session:
        ws = await connect(session)
        _, running = await post(session, "/prompt", {"prompt": blocker, "client_id": ws.sid})
        await ws.until(lambda m: m["type"] == "progress")
        ids = []
        for seed, extra in ((1, {}), (2, {}), (3, {"front": True}), (4, {"number": -100})):
            _, reply = await post(session, "/prompt", {"prompt": sleeper(1, 0, seed=100 + seed), **extra})
            ids.append(reply["prompt_id"])
        _, queue = await get(session, "/queue")
        _, size = await get(session, "/prompt")
        assert await post(session, "/queue", {"delete": [ids[1]]}) == (200, None)
        _, after_delete = await get(session, "/queue")
        await post(session, "/interrupt", {"prompt_id": running["prompt_id"]})
        for prompt_id in (ids[0], ids[2], ids[3]):
            await wait_history(session, prompt_id)
        _, history = await get(session, "/history")
        _, deleted = await get(session, f"/history/{ids[1]}")
    assert [item[1] for item in queue["queue_running"]] == [running["prompt_id"]]
    running_item = queue["queue_running"][0]
    assert len(running_item) == 5 and running_item[4] == ["out"] and running_item[3]["client_id"] == ws.sid
    assert sorted(item[1] for item in queue["queue_pending"]) == sorted(ids)
    assert size == {"exec_info": {"queue_remaining": 5}}
    assert ids[1] not in [item[1] for item in after_delete["queue_pending"]]
    order = [pid for pid in history if pid in (ids[0], ids[2], ids[3])]
    assert order == [ids[3], ids[2], ids[0]]  # number -100, then front (-counter), then the counter
    assert deleted[ids[1]]["status"]["status_str"] == "error"  # recorded as cancelled, not lost
    assert deleted[ids[1]]["status"]["messages"][-1][0] == "execution_cancelled"


async def test_object_info(server):
    async with aiohttp.ClientSession(server.url) as session:
        status, info = await get(session, "/api/object_info")
        _, one = await get(session, "/object_info/ImageInvert")
        _, missing = await get(session, "/object_info/NoSuchNode")
    assert status == 200 and "PreviewAny" in info and "ServerTestSleep" in info
    for node_info in info.values():
        assert {"name", "display_name", "description", "category", "output_node", "python_module"} <= set(
            node_info
        )
    assert one == {"ImageInvert": info["ImageInvert"]}
    assert one["ImageInvert"]["input"]["required"]["image"] == ["IMAGE"]
    assert missing == {}


async def test_small_json_routes(server):
    async with aiohttp.ClientSession(server.url) as session:
        features = await get(session, "/api/features")
        stats = await get(session, "/system_stats")
        models = await get(session, "/models")
        embeddings = await get(session, "/embeddings")
        extensions = await get(session, "/api/extensions")
        users = await get(session, "/api/users")
        i18n = await get(session, "/i18n")
        subgraphs = await get(session, "/global_subgraphs")
        templates = await get(session, "/workflow_templates")
        experiment = await get(session, "/experiment/models")
        packs = await get(session, "/packs")
        unknown_folder = await get(session, "/models/not_a_folder")
    assert features == (200, {"supports_preview_metadata": True, "max_upload_size": 104857600})
    system = stats[1]["system"]
    assert {
        "os",
        "ram_total",
        "ram_free",
        "comfyui_version",
        "python_version",
        "pytorch_version",
        "argv",
    } <= set(system)
    assert stats[1]["devices"][0]["type"] in ("cpu", "cuda")
    assert models[0] == 200 and "checkpoints" in models[1] and "loras" in models[1]
    assert embeddings == (200, [])
    assert extensions == (200, [EXTENSION_URL])  # graphflow's own extension; no pack adds one here
    assert users == (200, {"storage": "server", "migrated": True})
    assert i18n == (200, {}) and subgraphs == (200, {}) and templates == (200, {})
    assert experiment[0] == 200 and {"name": "checkpoints"}.items() <= experiment[1][0].items()
    by_name = {pack["name"]: pack for pack in packs[1]}
    assert by_name["server_tests"]["loaded"] is True and "ServerTestSleep" in by_name["server_tests"]["nodes"]
    assert unknown_folder[0] == 404


async def test_api_mirror_and_internal_routes(server):
    async with aiohttp.ClientSession(server.url) as session:
        bare = await get(session, "/queue")
        mirrored = await get(session, "/api/queue")
        internal = await get(session, "/internal/folder_paths")
        not_mirrored = await get(session, "/api/internal/folder_paths")
        files = await get(session, "/internal/files/output")
        bad_files = await get(session, "/internal/files/etc")
        logs = await get(session, "/internal/logs/raw")
        options = await session.options("/prompt")
    assert bare == mirrored == (200, {"queue_running": [], "queue_pending": []})
    assert internal[0] == 200 and internal[1]["output"] == [str(server.state.runtime.paths.output)]
    assert not_mirrored[0] == 404
    assert files == (200, [])
    assert bad_files[0] == 400
    assert logs[0] == 200 and set(logs[1]) == {"entries", "size"}
    assert options.status == 200


async def test_settings_roundtrip(server):
    server.state.config.settings_defaults["Comfy.TutorialCompleted"] = True
    async with aiohttp.ClientSession(server.url) as session:
        initial = await get(session, "/api/settings")
        assert await post(session, "/api/settings/Comfy.ColorPalette", "light") == (200, None)
        assert await post(session, "/settings", {"a.b": [1, 2], "Comfy.TutorialCompleted": False}) == (
            200,
            None,
        )
        merged = await get(session, "/settings")
        one = await get(session, "/settings/Comfy.ColorPalette")
        absent = await get(session, "/settings/Nope")
    assert initial == (200, {**EDITOR_SETTINGS, "Comfy.TutorialCompleted": True})
    assert merged[1] == {
        **EDITOR_SETTINGS,
        "Comfy.TutorialCompleted": False,
        "Comfy.ColorPalette": "light",
        "a.b": [1, 2],
    }
    assert one == (200, "light") and absent == (200, None)
    assert (server.state.user_dir / "comfy.settings.json").is_file()


async def test_userdata_routes(server):
    async with aiohttp.ClientSession(server.url) as session:
        saved = await post(session, "/api/userdata/workflows%2Fmy%20flow.json", data=b'{"nodes": []}')
        info = await post(
            session, "/api/userdata/workflows%2Fsub%2Fb.json?full_info=true", data=b"[]", params=None
        )
        conflict = await post(session, "/userdata/workflows%2Fb2.json", data=b"x")
        conflict2 = await post(session, "/userdata/workflows%2Fb2.json?overwrite=false", data=b"y")
        read = await get(session, "/userdata/workflows%2Fmy%20flow.json")
        listing = await get(session, "/userdata?dir=workflows&recurse=true")
        full = await get(session, "/userdata?dir=workflows&recurse=true&full_info=true")
        split = await get(session, "/userdata?dir=workflows&recurse=true&split=true")
        flat = await get(session, "/userdata?dir=workflows")
        missing_dir = await get(session, "/userdata?dir=nothing")
        v2 = await get(session, "/v2/userdata?path=workflows")
        moved = await post(session, "/userdata/workflows%2Fb2.json/move/workflows%2Fc.json")
        async with session.delete("/userdata/workflows%2Fc.json") as response:
            deleted = response.status
        gone = await get(session, "/userdata/workflows%2Fc.json")
    assert saved == (200, "workflows/my flow.json")
    assert info[0] == 200 and info[1]["path"] == "workflows/sub/b.json" and info[1]["size"] == 2
    assert conflict[0] == 200 and conflict2[0] == 409
    assert read == (200, {"nodes": []})
    assert sorted(listing[1]) == ["b2.json", "my flow.json", "sub/b.json"]
    assert {entry["path"] for entry in full[1]} == {"b2.json", "my flow.json", "sub/b.json"}
    assert {"size", "modified", "created"} <= set(full[1][0])
    assert ["sub/b.json", "sub", "b.json"] in split[1]
    assert sorted(flat[1]) == ["b2.json", "my flow.json"]
    assert missing_dir[0] == 404
    assert [entry["type"] for entry in v2[1]] == ["directory", "file", "file"]
    assert v2[1][0] == {"name": "sub", "path": "workflows/sub", "type": "directory"}
    assert moved == (200, "workflows/c.json")
    assert deleted == 204 and gone[0] == 404


@pytest.mark.parametrize("path", ["/jobs?status=bogus", "/history?max_items=x", "/jobs?limit=0"])
async def test_bad_queries_are_400(server, path):
    async with aiohttp.ClientSession(server.url) as session:
        status, body = await get(session, path)
    assert status == 400 and body["error"]["message"]


async def test_free_memory_clears_the_result_cache(server):
    async with aiohttp.ClientSession(server.url) as session:
        ws = await connect(session)
        first = await post(session, "/prompt", {"prompt": SMALL, "client_id": ws.sid})
        await ws.until_done(first[1]["prompt_id"])
        cached = await post(session, "/prompt", {"prompt": SMALL, "client_id": ws.sid})
        cached_messages = await ws.until_done(cached[1]["prompt_id"])
        assert await post(session, "/free", {"unload_models": True, "free_memory": True}) == (200, None)
        fresh = await post(session, "/prompt", {"prompt": SMALL, "client_id": ws.sid})
        fresh_messages = await ws.until_done(fresh[1]["prompt_id"])
    cached_nodes = next(m["data"]["nodes"] for m in cached_messages if m["type"] == "execution_cached")
    fresh_nodes = next(m["data"]["nodes"] for m in fresh_messages if m["type"] == "execution_cached")
    assert sorted(cached_nodes) == ["1", "2"] and fresh_nodes == []


async def test_log_subscribers_get_log_messages(server):
    import logging

    async with aiohttp.ClientSession(server.url) as session:
        ws = await connect(session, "reader")
        async with session.patch(
            "/internal/logs/subscribe", json={"clientId": "reader", "enabled": True}
        ) as r:
            assert r.status == 200
        server.state.logs.emit(
            logging.LogRecord("graphflow.test", logging.INFO, __file__, 1, "hello %s", ("logs",), None)
        )
        message = await ws.until(lambda m: m["type"] == "logs")
        _, text = await get(session, "/internal/logs")
    entry = message[-1]["data"]["entries"][0]
    assert entry["m"].strip() == "INFO graphflow.test: hello logs" and entry["t"]
    assert "hello logs" in text


async def test_pack_front_end_parts(make_server, tmp_path):
    from graphflow.registry import PackStatus

    from .conftest import test_runtime

    pack_dir = tmp_path / "packs" / "fancy"
    (pack_dir / "js" / "widgets").mkdir(parents=True)
    (pack_dir / "js" / "main.js").write_text("export const x = 1;")
    (pack_dir / "js" / "widgets" / "knob.js").write_text("export const y = 2;")
    (pack_dir / "js" / "style.css").write_text("body {}")
    (pack_dir / "example_workflows").mkdir()
    (pack_dir / "example_workflows" / "first.json").write_text('{"nodes": []}')
    (pack_dir / "locales" / "en").mkdir(parents=True)
    (pack_dir / "locales" / "en" / "main.json").write_text('{"title": "Fancy"}')
    (pack_dir / "locales" / "en" / "nodeDefs.json").write_text('{"FancyNode": {"display_name": "Fancy"}}')
    runtime = test_runtime(tmp_path / "base")
    runtime.registry.add_pack(
        PackStatus("fancy", str(pack_dir), "native", web_directory=str(pack_dir / "js"))
    )
    runtime.registry.add_pack(
        PackStatus("broken", str(pack_dir), "native", loaded=False, error="ImportError: x")
    )
    server = make_server(runtime=runtime)
    async with aiohttp.ClientSession(server.url) as session:
        extensions = await get(session, "/api/extensions")
        script = await session.get("/extensions/fancy/widgets/knob.js")
        not_mirrored = await session.get("/api/extensions/fancy/main.js")
        templates = await get(session, "/api/workflow_templates")
        template = await get(session, "/api/workflow_templates/fancy/first.json")
        i18n = await get(session, "/api/i18n")
        packs = await get(session, "/api/packs")
    assert extensions == (
        200,
        [EXTENSION_URL, "/extensions/fancy/main.js", "/extensions/fancy/widgets/knob.js"],
    )
    assert script.status == 200 and await script.text() == "export const y = 2;"
    assert not_mirrored.status == 404
    assert templates == (200, {"fancy": ["first"]}) and template == (200, {"nodes": []})
    assert i18n == (200, {"en": {"title": "Fancy", "nodeDefs": {"FancyNode": {"display_name": "Fancy"}}}})
    broken = next(p for p in packs[1] if p["name"] == "broken")
    assert broken["loaded"] is False and broken["error"] == "ImportError: x"
    fancy = next(p for p in packs[1] if p["name"] == "fancy")
    assert fancy["web"] == "/extensions/fancy/" and fancy["loaded"] is True


async def test_model_routes(server):
    import torch
    from PIL import Image
    from safetensors.torch import save_file

    models = server.state.runtime.paths.models
    (models / "checkpoints" / "sub").mkdir(parents=True)
    save_file(
        {"w": torch.zeros(2)}, models / "checkpoints" / "sub" / "tiny.safetensors", {"ss_note": "hello"}
    )
    Image.new("RGB", (4, 4)).save(models / "checkpoints" / "sub" / "tiny.png")
    (models / "embeddings").mkdir()
    save_file({"emb": torch.zeros(1, 4)}, models / "embeddings" / "style.safetensors")
    async with aiohttp.ClientSession(server.url) as session:
        listed = await get(session, "/models/checkpoints")
        embeddings = await get(session, "/embeddings")
        metadata = await get(
            session, "/view_metadata/checkpoints", params={"filename": "sub/tiny.safetensors"}
        )
        no_metadata = await get(
            session, "/view_metadata/embeddings", params={"filename": "style.safetensors"}
        )
        library = await get(session, "/experiment/models/checkpoints")
        preview = await session.get("/experiment/models/preview/checkpoints/0/sub/tiny.safetensors")
        folders = await get(session, "/experiment/models")
    assert "sub/tiny.safetensors" in listed[1]
    assert embeddings == (200, ["style"])
    assert metadata == (200, {"ss_note": "hello"})
    assert no_metadata[0] == 404
    entry = next(e for e in library[1] if e["name"] == "sub/tiny.safetensors")
    assert entry["pathIndex"] == 0 and entry["size"] > 0
    assert preview.status == 200 and (await preview.read())[:4] == b"\x89PNG"
    checkpoints = next(f for f in folders[1] if f["name"] == "checkpoints")
    assert checkpoints["folders"][0] == str(models / "checkpoints")
