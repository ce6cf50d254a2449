"""Workflows embedded in PNG files (workflow-formats.md §6).

Writers (SaveImage) put a ``prompt`` text chunk (the API prompt) and then one chunk per ``extra_pnginfo`` key
(normally ``workflow``, the editor JSON), JSON ASCII-escaped so that Latin-1 ``tEXt`` can hold it.

Readers walk the chunks themselves: ``tEXt`` (keyword NUL Latin-1 text), ``zTXt`` (keyword NUL method
zlib-data) and ``iTXt`` (keyword NUL flag method language NUL translated-keyword NUL UTF-8 text, zlib
compressed when the flag is 1). Chunk CRCs are not checked: a damaged CRC should not hide a workflow.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphflow.workflow.errors import WorkflowError

if TYPE_CHECKING:
    from PIL.PngImagePlugin import PngInfo

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
METADATA_KEYS = ("prompt", "workflow")


@dataclass(frozen=True)
class PngWorkflow:
    """The ComfyUI metadata of a PNG: the API ``prompt`` and the editor ``workflow``, each None if absent."""

    prompt: dict[str, Any] | None
    workflow: dict[str, Any] | None


def is_png(data: bytes) -> bool:
    return data[:8] == PNG_SIGNATURE


def _split_keyword(body: bytes) -> tuple[str, bytes]:
    keyword, _, rest = body.partition(b"\0")
    return keyword.decode("latin-1"), rest


def _decode_chunk(kind: bytes, body: bytes) -> tuple[str, str] | None:
    """(keyword, text) of one text chunk, or None if it cannot be decoded."""
    try:
        if kind == b"tEXt":
            keyword, text = _split_keyword(body)
            return keyword, text.decode("latin-1")
        if kind == b"zTXt":
            keyword, rest = _split_keyword(body)
            return keyword, zlib.decompress(rest[1:]).decode("latin-1")
        if kind == b"iTXt":
            keyword, rest = _split_keyword(body)
            compressed, rest = rest[0], rest[2:]  # flag, then method
            _language, _, rest = rest.partition(b"\0")
            _translated, _, text = rest.partition(b"\0")
            if compressed:
                text = zlib.decompress(text)
            return keyword, text.decode("utf-8")
    except (zlib.error, UnicodeDecodeError, IndexError):
        return None
    return None


def read_png_text(data: bytes) -> dict[str, str]:
    """All text chunks of a PNG by keyword (the first chunk wins when a keyword repeats)."""
    if not is_png(data):
        raise WorkflowError("not a PNG file (the PNG signature is missing)")
    texts: dict[str, str] = {}
    position = len(PNG_SIGNATURE)
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        position += 12 + length  # length, type, data, CRC
        if kind == b"IEND" or len(body) < length:
            break
        decoded = _decode_chunk(kind, body) if kind in (b"tEXt", b"zTXt", b"iTXt") else None
        if decoded is not None:
            texts.setdefault(*decoded)
    return texts


def _parse_json_chunk(keyword: str, text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise WorkflowError(f"the PNG's {keyword!r} text chunk is not valid JSON ({error})") from None
    if not isinstance(value, dict):
        raise WorkflowError(f"the PNG's {keyword!r} text chunk is JSON but not an object")
    return value


def read_png_workflow(data: bytes) -> PngWorkflow:
    """The ``prompt`` and ``workflow`` a PNG carries.

    Raises:
        WorkflowError: not a PNG, a chunk holds invalid JSON, or the PNG has neither chunk.
    """
    texts = read_png_text(data)
    found = {key: _parse_json_chunk(key, texts[key]) for key in METADATA_KEYS if key in texts}
    if not found:
        raise WorkflowError(
            "this PNG carries no workflow: it has no 'prompt' or 'workflow' text chunk. It was probably "
            "saved with metadata disabled (--disable-metadata) or re-encoded by another program; use the "
            "original file or the workflow JSON instead."
        )
    return PngWorkflow(prompt=found.get("prompt"), workflow=found.get("workflow"))


def png_text_chunks(prompt: Mapping[str, Any] | None, extra_pnginfo: Mapping[str, Any] | None) -> PngInfo:
    """The text chunks a saved image carries: ``prompt`` first, then one per ``extra_pnginfo`` key.

    Pass the result as ``pnginfo=`` to ``PIL.Image.save``; Pillow writes the chunks before the image data.
    """
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    if prompt is not None:
        info.add_text("prompt", json.dumps(prompt, ensure_ascii=True))
    for key, value in (extra_pnginfo or {}).items():
        info.add_text(str(key), json.dumps(value, ensure_ascii=True))
    return info
