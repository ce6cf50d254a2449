"""PNG metadata: writing prompt/workflow text chunks with Pillow and reading tEXt, zTXt and iTXt back."""

from __future__ import annotations

import io
import json
import struct
import zlib

import pytest
from PIL import Image

from graphflow.workflow import WorkflowError, png_text_chunks, read_png_text, read_png_workflow

PROMPT = {
    "1": {
        "class_type": "EmptyImage",
        "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0},
        "_meta": {"title": "Café ☕"},
    }
}
WORKFLOW = {"nodes": [{"id": 1, "type": "EmptyImage", "title": "Café ☕"}], "links": [], "version": 0.4}


def png_bytes(**save_options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 10, 10)).save(buffer, format="PNG", **save_options)
    return buffer.getvalue()


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    found, position = [], 8
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        found.append((kind, data[position + 8 : position + 8 + length]))
        position += 12 + length
    return found


def chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def insert_before_iend(data: bytes, extra: bytes) -> bytes:
    return data[:-12] + extra + data[-12:]


def test_written_chunks_read_back():
    data = png_bytes(pnginfo=png_text_chunks(PROMPT, {"workflow": WORKFLOW}))
    embedded = read_png_workflow(data)
    assert embedded.prompt == PROMPT
    assert embedded.workflow == WORKFLOW
    assert Image.open(io.BytesIO(data)).size == (4, 3)  # still a valid image


def test_chunk_order_and_ascii_escaping():
    data = png_bytes(pnginfo=png_text_chunks(PROMPT, {"workflow": WORKFLOW, "extra": [1, 2]}))
    kinds = [kind for kind, _ in chunks(data)]
    texts = [body for kind, body in chunks(data) if kind == b"tEXt"]
    assert [t.split(b"\0")[0] for t in texts] == [b"prompt", b"workflow", b"extra"]
    assert kinds.index(b"tEXt") < kinds.index(b"IDAT")
    prompt_text = texts[0].split(b"\0", 1)[1]
    assert prompt_text.isascii() and b"\\u00e9" in prompt_text and b"\\u2615" in prompt_text


def test_no_prompt_writes_only_extra_chunks():
    data = png_bytes(pnginfo=png_text_chunks(None, {"workflow": WORKFLOW}))
    assert set(read_png_text(data)) == {"workflow"}
    assert read_png_workflow(data).prompt is None


def test_compressed_itxt_chunk_built_by_hand():
    text = json.dumps(WORKFLOW, ensure_ascii=False).encode("utf-8")
    body = b"workflow\0" + b"\x01\x00" + b"en\0" + b"\0" + zlib.compress(text)
    data = insert_before_iend(png_bytes(), chunk(b"iTXt", body))
    assert read_png_workflow(data).workflow == WORKFLOW


def test_uncompressed_itxt_and_ztxt_chunks():
    itxt = b"prompt\0\x00\x00\0\0" + json.dumps(PROMPT, ensure_ascii=False).encode("utf-8")
    ztxt = b"workflow\0\x00" + zlib.compress(json.dumps(WORKFLOW).encode("latin-1"))
    data = insert_before_iend(png_bytes(), chunk(b"iTXt", itxt) + chunk(b"zTXt", ztxt))
    embedded = read_png_workflow(data)
    assert (embedded.prompt, embedded.workflow) == (PROMPT, WORKFLOW)


def test_png_without_metadata_is_a_clear_error():
    with pytest.raises(WorkflowError, match="carries no workflow") as caught:
        read_png_workflow(png_bytes())
    assert "--disable-metadata" in str(caught.value)


def test_not_a_png():
    with pytest.raises(WorkflowError, match="not a PNG"):
        read_png_text(b"GIF89a....")


def test_invalid_json_in_a_chunk():
    data = insert_before_iend(png_bytes(), chunk(b"tEXt", b"prompt\0{not json"))
    with pytest.raises(WorkflowError, match="'prompt' text chunk is not valid JSON"):
        read_png_workflow(data)


def test_truncated_file_keeps_chunks_read_so_far():
    data = png_bytes(pnginfo=png_text_chunks(PROMPT, {}))
    cut = data[: data.index(b"IDAT") + 10]
    assert json.loads(read_png_text(cut)["prompt"]) == PROMPT
