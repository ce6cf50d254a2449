"""load_workflow: API JSON, editor JSON, PNGs, and the errors for everything else."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from graphflow.workflow import (
    UnknownNodeTypeError,
    WorkflowError,
    is_api_prompt,
    is_editor_workflow,
    load_workflow,
    png_text_chunks,
)


def png_with(prompt=None, extra=None) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buffer, format="PNG", pnginfo=png_text_chunks(prompt, extra or {}))
    return buffer.getvalue()


def test_detection_helpers(golden):
    workflow, prompt = golden("txt2img")
    assert is_editor_workflow(workflow) and not is_api_prompt(workflow)
    assert is_api_prompt(prompt) and not is_editor_workflow(prompt)
    assert not is_api_prompt({}) and not is_api_prompt({"1": {"inputs": {}}}) and not is_editor_workflow([])


def test_editor_json_file(tmp_path, golden, object_info):
    workflow, expected = golden("txt2img")
    path = tmp_path / "txt2img.json"
    path.write_text(json.dumps(workflow), encoding="utf-8")
    loaded = load_workflow(path, object_info)
    assert (loaded.source_format, loaded.prompt, loaded.workflow) == ("editor", expected, workflow)


def test_api_json_bytes_and_objects(golden, object_info):
    _, prompt = golden("txt2img")
    from_bytes = load_workflow(json.dumps(prompt).encode("utf-8"), object_info)
    from_object = load_workflow(prompt, object_info)
    for loaded in (from_bytes, from_object):
        assert (loaded.source_format, loaded.prompt, loaded.workflow) == ("api", prompt, None)


def test_json_text(golden, object_info):
    workflow, expected = golden("worked_example")
    loaded = load_workflow(json.dumps(workflow), object_info)
    assert (loaded.source_format, loaded.prompt) == ("editor", expected)


def test_prompt_request_body(golden, object_info):
    workflow, prompt = golden("txt2img")
    body = {"client_id": "abc", "prompt": prompt, "extra_data": {"extra_pnginfo": {"workflow": workflow}}}
    loaded = load_workflow(body, object_info)
    assert (loaded.source_format, loaded.prompt, loaded.workflow) == ("api", prompt, workflow)


def test_png_prefers_the_embedded_prompt(golden, object_info):
    workflow, prompt = golden("txt2img")
    stored = {
        **prompt,
        "9": {**prompt["9"], "inputs": {**prompt["9"]["inputs"], "filename_prefix": "as-queued"}},
    }
    data = png_with(stored, {"workflow": workflow})
    loaded = load_workflow(data, object_info)
    assert (loaded.source_format, loaded.prompt, loaded.workflow) == ("png-prompt", stored, workflow)

    reconverted = load_workflow(data, object_info, prefer_workflow=True)
    assert reconverted.source_format == "png-workflow"
    assert reconverted.prompt == prompt  # converted afresh from the editor workflow


def test_png_with_only_a_workflow(tmp_path, golden, object_info):
    workflow, expected = golden("worked_example")
    path = tmp_path / "image.png"
    path.write_bytes(png_with(None, {"workflow": workflow}))
    loaded = load_workflow(str(path), object_info)
    assert (loaded.source_format, loaded.prompt) == ("png-workflow", expected)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (b"\xff\xfe not json", "neither JSON nor a PNG"),
        (b"[1, 2, 3]", "JSON but not a workflow"),
        (b'{"hello": "world"}', "JSON but not a workflow"),
        (b'{"nodes": [], "links": [], "version": 7}', "unknown workflow schema version 7"),
    ],
)
def test_clear_errors(object_info, source, message):
    with pytest.raises(WorkflowError, match=message):
        load_workflow(source, object_info)


def test_png_without_metadata(object_info):
    with pytest.raises(WorkflowError, match="carries no workflow"):
        load_workflow(png_with(), object_info)


def test_missing_file(tmp_path, object_info):
    with pytest.raises(WorkflowError, match="cannot read workflow file"):
        load_workflow(tmp_path / "nope.json", object_info)


def test_unknown_nodes_surface_from_loading(golden, object_info):
    workflow, _ = golden("txt2img")
    workflow["nodes"].append({"id": 30, "type": "NotInstalled", "mode": 0})
    with pytest.raises(UnknownNodeTypeError, match="NotInstalled"):
        load_workflow(workflow, object_info)
