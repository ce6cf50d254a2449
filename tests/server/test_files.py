"""``/upload/image``, ``/upload/mask`` and ``/view`` (comfy-wire.md §3.8–3.9) with real image files."""

from __future__ import annotations

import io
import json

import aiohttp
from graphflow.server.config import ServerConfig
from PIL import Image, PngImagePlugin

from .conftest import get


def png(color, size=(8, 6), mode="RGB", text=None) -> bytes:
    buffer = io.BytesIO()
    info = None
    if text:
        info = PngImagePlugin.PngInfo()
        for key, value in text.items():
            info.add_text(key, value)
    Image.new(mode, size, color).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def raw_multipart(filename: str, data: bytes, **fields: str) -> tuple[bytes, str]:
    """A multipart body with ``filename`` exactly as given (aiohttp's FormData would percent-encode it)."""
    boundary = "graphflowtestboundary"
    filename = filename.replace("\\", "\\\\")  # quoted-string escaping, so the server sees it as given
    chunks = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    chunks.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{filename}"\r\n'
        "Content-Type: image/png\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


async def upload_raw(session, filename: str, data: bytes, path="/upload/image", **fields):
    body, content_type = raw_multipart(filename, data, **fields)
    async with session.post(path, data=body, headers={"Content-Type": content_type}) as response:
        return response.status, await response.json()


async def upload(session, data: bytes, name: str, path="/upload/image", **fields):
    form = aiohttp.FormData()
    form.add_field("image", data, filename=name, content_type="image/png")
    for key, value in fields.items():
        form.add_field(key, value)
    async with session.post(path, data=form) as response:
        return response.status, await response.json()


async def test_upload_dedupe_numbering_and_overwrite(server):
    inputs = server.state.runtime.paths.input
    red, blue = png((255, 0, 0)), png((0, 0, 255))
    async with aiohttp.ClientSession(server.url) as session:
        first = await upload(session, red, "photo.png")
        same = await upload(session, red, "photo.png")
        other = await upload(session, blue, "photo.png")
        other_again = await upload(session, blue, "photo.png")
        third = await upload(session, png((0, 255, 0)), "photo.png")
        replaced = await upload(session, blue, "photo.png", overwrite="true")
        into_sub = await upload(session, red, "a.png", subfolder="masks/x", type="temp")
    assert first == (200, {"name": "photo.png", "subfolder": "", "type": "input"})
    assert same == first  # same content: the existing name, nothing written
    assert other[1]["name"] == "photo (1).png" and other_again[1]["name"] == "photo (1).png"
    assert third[1]["name"] == "photo (2).png"
    assert replaced[1]["name"] == "photo.png"
    assert (inputs / "photo.png").read_bytes() == blue
    uploaded = sorted(p.name for p in inputs.iterdir() if not p.name.startswith("example_"))
    assert uploaded == ["photo (1).png", "photo (2).png", "photo.png"]
    assert into_sub == (200, {"name": "a.png", "subfolder": "masks/x", "type": "temp"})
    assert (server.state.runtime.paths.temp / "masks" / "x" / "a.png").read_bytes() == red


async def test_upload_rejections(make_server):
    server = make_server(ServerConfig(port=0, max_upload_pixels=100))
    async with aiohttp.ClientSession(server.url) as session:
        too_many_pixels = await upload(session, png((1, 2, 3), size=(20, 20)), "big.png")
        no_file = await session.post("/upload/image", data={"type": "input"})
        not_multipart = await session.post(
            "/upload/image", data=b"\x00\x01", headers={"Content-Type": "text/plain"}
        )
        bad_type = await upload(session, png((1, 2, 3)), "x.png", type="models")
        nested_name = await upload_raw(session, "a/b.png", png((1, 2, 3)))
        plain_raw = await upload_raw(session, "plain.png", png((1, 2, 3)), subfolder="s")
    assert too_many_pixels[0] == 400 and "pixels" in too_many_pixels[1]["error"]["message"]
    assert no_file.status == 400 and not_multipart.status == 400
    assert bad_type[0] == 400 and nested_name[0] == 400
    assert plain_raw == (200, {"name": "plain.png", "subfolder": "s", "type": "input"})
    written = server.state.runtime.paths.input.rglob("*")
    # Seeded example inputs aside, the upload wrote exactly the one file in its subfolder.
    assert [p.name for p in written if not p.name.startswith("example_")] == ["s", "plain.png"]


async def test_upload_mask_copies_alpha_and_keeps_text(server):
    original = png((10, 20, 30), size=(4, 4), text={"workflow": '{"nodes": []}'})
    mask = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    mask.putpixel((1, 1), (0, 0, 0, 200))
    buffer = io.BytesIO()
    mask.save(buffer, format="PNG")
    async with aiohttp.ClientSession(server.url) as session:
        await upload(session, original, "orig.png")
        ref = json.dumps({"filename": "orig.png", "subfolder": "", "type": "input"})
        status, reply = await upload(
            session, buffer.getvalue(), "orig_mask.png", "/upload/mask", original_ref=ref
        )
    assert status == 200 and reply["name"] == "orig_mask.png"
    with Image.open(server.state.runtime.paths.input / "orig_mask.png") as result:
        assert result.mode == "RGBA"
        assert result.getpixel((1, 1)) == (10, 20, 30, 200) and result.getpixel((0, 0)) == (10, 20, 30, 0)
        assert result.text["workflow"] == '{"nodes": []}'


async def test_view_formats_and_annotations(server):
    output = server.state.runtime.paths.output
    Image.new("RGBA", (6, 4), (200, 100, 50, 128)).save(output / "pic.png")
    (output / "page.html").write_text("<script>alert(1)</script>")
    sub = output / "sub"
    sub.mkdir()
    Image.new("RGB", (2, 2), (1, 2, 3)).save(sub / "s.png")
    server.state.runtime.paths.input.joinpath("in.png").write_bytes(png((9, 9, 9)))
    async with aiohttp.ClientSession(server.url) as session:
        async with session.get("/view", params={"filename": "pic.png", "rand": "0.5"}) as r:
            raw = (r.status, r.headers["Content-Type"], r.headers["Content-Disposition"], await r.read())
        async with session.get("/api/view", params={"filename": "pic.png", "preview": "webp;50"}) as r:
            webp = (r.status, r.headers["Content-Type"], await r.read())
        async with session.get("/view", params={"filename": "pic.png", "preview": "jpeg;90"}) as r:
            jpeg = (r.status, await r.read())
        async with session.get("/view", params={"filename": "pic.png", "channel": "rgb"}) as r:
            rgb = await r.read()
        async with session.get("/view", params={"filename": "pic.png", "channel": "a"}) as r:
            alpha = await r.read()
        async with session.get("/view", params={"filename": "page.html"}) as r:
            html = (r.status, r.headers["Content-Type"], r.headers["X-Content-Type-Options"])
        async with session.get("/view", params={"filename": "s.png", "subfolder": "sub"}) as r:
            in_sub = r.status
        async with session.get("/view", params={"filename": "in.png [input]", "type": "output"}) as r:
            annotated = r.status
        missing = await get(session, "/view", params={"filename": "nope.png"})
        no_name = await get(session, "/view")
        bad_channel = await get(session, "/view", params={"filename": "pic.png", "channel": "xyz"})
    assert raw[:2] == (200, "image/png") and 'filename="pic.png"' in raw[2]
    assert raw[3] == (output / "pic.png").read_bytes()
    assert webp[0] == 200 and webp[1] == "image/webp" and webp[2][8:12] == b"WEBP"
    assert jpeg[0] == 200 and jpeg[1][:3] == b"\xff\xd8\xff"
    assert Image.open(io.BytesIO(rgb)).mode == "RGB"
    with Image.open(io.BytesIO(alpha)) as image:
        assert image.getchannel("A").getpixel((0, 0)) == 128
    assert html == (200, "application/octet-stream", "nosniff")
    assert in_sub == 200 and annotated == 200
    assert missing[0] == 404 and no_name[0] == 404 and bad_channel[0] == 400
