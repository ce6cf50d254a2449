"""Image nodes on real files: loading, masks, saving with metadata and numbering, previews, scaling."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from graphflow.nodes.image_load import LoadImage, LoadImageMask
from graphflow.nodes.image_save import PreviewImage, SaveImage
from graphflow.nodes.image_scale import ImageScale, ImageScaleBy
from PIL import Image

from graphflow.context import CancelToken, NodeContext
from graphflow.paths import EXAMPLE_INPUTS
from graphflow.workflow.png import read_png_text

PROMPT = {"1": {"class_type": "SaveImage", "inputs": {"filename_prefix": "x"}}}
WORKFLOW = {"nodes": [], "links": [], "version": 0.4}


def context(runtime, extra_data=None, prompt=None):
    return NodeContext(
        runtime, "9", "9", "p", prompt or PROMPT, extra_data or {}, CancelToken(), lambda *a: None
    )


def call(node_class, ctx, **inputs):
    return node_class.spec.runner.call(ctx, inputs)


def write_png(path, pixels, mode="RGB"):
    Image.fromarray(np.asarray(pixels, dtype=np.uint8), mode).save(path)


def test_load_image_pixels_and_empty_mask(runtime):
    pixels = np.zeros((20, 30, 3), dtype=np.uint8)
    pixels[..., 0] = 255
    write_png(runtime.paths.input / "red.png", pixels)
    image, mask = call(LoadImage, context(runtime), image="red.png").outputs
    assert image.shape == (1, 20, 30, 3) and torch.equal(image[0, 0, 0], torch.tensor([1.0, 0.0, 0.0]))
    assert mask.shape == (1, 64, 64) and not mask.any()


def test_load_image_mask_is_one_minus_alpha(runtime):
    rgba = np.full((8, 8, 4), 255, dtype=np.uint8)
    rgba[:4, :, 3] = 0
    write_png(runtime.paths.input / "cut.png", rgba, "RGBA")
    _, mask = call(LoadImage, context(runtime), image="cut.png").outputs
    assert mask.shape == (1, 8, 8) and mask[0, :4].eq(1).all() and mask[0, 4:].eq(0).all()


def test_load_image_applies_exif_orientation(runtime):
    image = Image.new("RGB", (40, 20), (0, 255, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    image.save(runtime.paths.input / "turned.jpg", exif=exif)
    loaded, _ = call(LoadImage, context(runtime), image="turned.jpg").outputs
    assert loaded.shape == (1, 40, 20, 3)


def test_load_image_batches_animation_frames(runtime):
    frames = [Image.new("RGB", (16, 16), (v, v, v)) for v in (0, 128, 255)]
    frames[0].save(runtime.paths.input / "anim.gif", save_all=True, append_images=frames[1:])
    image, mask = call(LoadImage, context(runtime), image="anim.gif").outputs
    assert image.shape == (3, 16, 16, 3) and mask.shape[0] == 3
    assert image[:, 0, 0, 0].tolist() == pytest.approx([0.0, 128 / 255, 1.0], abs=0.01)


def test_load_image_16_bit_is_scaled(runtime):
    Image.fromarray(np.full((4, 4), 65535, dtype=np.uint16)).save(runtime.paths.input / "deep.png")
    image, _ = call(LoadImage, context(runtime), image="deep.png").outputs
    assert image.max().item() == pytest.approx(1.0)


def test_load_image_from_output_folder_annotation(runtime):
    runtime.paths.output.mkdir(parents=True, exist_ok=True)
    write_png(runtime.paths.output / "done.png", np.full((4, 4, 3), 255))
    image, _ = call(LoadImage, context(runtime), image="done.png [output]").outputs
    assert image.shape == (1, 4, 4, 3)
    assert LoadImage.validate(runtime, image="done.png [output]") is None


def test_load_image_validation_and_listing(runtime):
    write_png(runtime.paths.input / "b.png", np.zeros((2, 2, 3)))
    write_png(runtime.paths.input / "a.png", np.zeros((2, 2, 3)))
    (runtime.paths.input / "notes.txt").write_text("x")
    info = LoadImage.spec.object_info(runtime)["input"]["required"]["image"]
    # The shipped example inputs are seeded into input/ too; the listing is sorted and skips non-images.
    examples = sorted(p.name for p in EXAMPLE_INPUTS.glob("*.png"))
    assert info == [sorted(["a.png", "b.png", *examples]), {"image_upload": True}]
    assert LoadImage.validate(runtime, image="missing.png") == {"image": "Invalid image file: missing.png"}
    assert LoadImage.validate(runtime, image="../secret.png") == {
        "image": "Invalid image file: ../secret.png"
    }
    assert "notes.txt" in LoadImageMask.spec.object_info(runtime)["input"]["required"]["image"][0]


def test_load_image_fingerprint_follows_the_file_content(runtime):
    path = runtime.paths.input / "swap.png"
    write_png(path, np.zeros((2, 2, 3)))
    first = LoadImage.fingerprint(runtime, image="swap.png")
    write_png(path, np.full((2, 2, 3), 255))
    assert LoadImage.fingerprint(runtime, image="swap.png") != first


def test_load_image_mask_channels(runtime):
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., 1] = 255  # green
    rgba[..., 3] = 64
    write_png(runtime.paths.input / "m.png", rgba, "RGBA")
    ctx = context(runtime)
    (green,) = call(LoadImageMask, ctx, image="m.png", channel="green").outputs
    (alpha,) = call(LoadImageMask, ctx, image="m.png", channel="alpha").outputs
    (red,) = call(LoadImageMask, ctx, image="m.png", channel="red").outputs
    assert green.shape == (1, 4, 4) and green.eq(1).all() and not red.any()
    assert alpha[0, 0, 0].item() == pytest.approx(1 - 64 / 255)


def _gradient(batch=2, height=16, width=24):
    return torch.linspace(0, 1, height * width * 3).reshape(1, height, width, 3).repeat(batch, 1, 1, 1)


def test_save_image_writes_numbered_pngs_with_metadata(runtime):
    ctx = context(runtime, {"extra_pnginfo": {"workflow": WORKFLOW}})
    result = call(SaveImage, ctx, images=_gradient(), filename_prefix="shots/run")
    entries = result.ui["images"]
    assert entries == [
        {"filename": "run_00001_.png", "subfolder": "shots", "type": "output"},
        {"filename": "run_00002_.png", "subfolder": "shots", "type": "output"},
    ]
    data = (runtime.paths.output / "shots" / "run_00001_.png").read_bytes()
    texts = read_png_text(data)
    assert list(texts)[:2] == ["prompt", "workflow"]
    assert json.loads(texts["prompt"]) == PROMPT and json.loads(texts["workflow"]) == WORKFLOW
    with Image.open(runtime.paths.output / "shots" / "run_00002_.png") as saved:
        assert saved.size == (24, 16) and saved.mode == "RGB"
        assert np.asarray(saved)[-1, -1].tolist() == [254, 254, 255]  # 255 * value, truncated
    again = call(SaveImage, ctx, images=_gradient(1), filename_prefix="shots/run").ui["images"]
    assert again[0]["filename"] == "run_00003_.png"  # numbering continues after existing files


def test_save_image_counter_continues_after_the_highest_existing(runtime):
    runtime.paths.output.mkdir(parents=True, exist_ok=True)
    (runtime.paths.output / "pic_00041_.png").write_bytes(b"")
    (runtime.paths.output / "other_00090_.png").write_bytes(b"")
    entries = call(SaveImage, context(runtime), images=_gradient(1), filename_prefix="pic").ui["images"]
    assert entries[0]["filename"] == "pic_00042_.png"


def test_save_image_substitutes_size_and_date(runtime):
    entries = call(
        SaveImage, context(runtime), images=_gradient(1), filename_prefix="%year%/img_%width%x%height%"
    ).ui["images"]
    assert (
        re.fullmatch(r"\d{4}", entries[0]["subfolder"]) and entries[0]["filename"] == "img_24x16_00001_.png"
    )


@pytest.mark.parametrize("prefix", ["../escape", "a/../../escape", "/etc/passwd"])
def test_save_image_refuses_paths_outside_the_output_folder(runtime, prefix):
    with pytest.raises(ValueError, match="outside the output folder"):
        call(SaveImage, context(runtime), images=_gradient(1), filename_prefix=prefix)
    assert not (runtime.paths.base / "escape_00001_.png").exists()


def test_save_image_without_metadata(runtime):
    runtime.write_metadata = False
    call(SaveImage, context(runtime), images=_gradient(1), filename_prefix="plain")
    assert read_png_text((runtime.paths.output / "plain_00001_.png").read_bytes()) == {}


def test_preview_image_goes_to_temp(runtime):
    entries = call(PreviewImage, context(runtime), images=_gradient(1)).ui["images"]
    (entry,) = entries
    assert entry["type"] == "temp" and entry["subfolder"] == ""
    assert re.fullmatch(r"ComfyUI_temp_[a-z]{5}_00001_\.png", entry["filename"])
    assert (runtime.paths.temp / entry["filename"]).is_file()


@pytest.mark.parametrize("method", ["nearest-exact", "bilinear", "area", "bicubic", "lanczos"])
def test_image_scale_methods(method, runtime):
    image = _gradient(1)
    (out,) = call(
        ImageScale, None, image=image, upscale_method=method, width=48, height=0, crop="disabled"
    ).outputs
    assert out.shape == (1, 32, 48, 3) and out.min() >= 0 and out.max() <= 1
    (same,) = call(
        ImageScale, None, image=image, upscale_method=method, width=0, height=0, crop="disabled"
    ).outputs
    assert same is image
    (by,) = call(ImageScaleBy, None, image=image, upscale_method=method, scale_by=0.5).outputs
    assert by.shape == (1, 8, 12, 3)


def test_image_scale_center_crop():
    image = torch.zeros(1, 10, 20, 3)
    image[:, :, 5:15] = 1.0  # a white middle
    (out,) = call(
        ImageScale, None, image=image, upscale_method="nearest-exact", width=10, height=10, crop="center"
    ).outputs
    assert out.shape == (1, 10, 10, 3) and out.eq(1).all()
