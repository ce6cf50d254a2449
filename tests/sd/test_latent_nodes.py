"""Latent and VAE nodes on real tensors and the tiny VAE."""

from __future__ import annotations

import pytest
import torch
from graphflow.nodes.latent import (
    EmptyLatentImage,
    LatentFromBatch,
    LatentUpscale,
    LatentUpscaleBy,
    RepeatLatentBatch,
    SetLatentNoiseMask,
)
from graphflow.nodes.vae import VAEDecode, VAEEncode, VAEEncodeForInpaint

from . import tiny_models


def call(node_class, **inputs):
    return node_class.spec.runner.call(None, inputs).outputs


def test_empty_latent_image_shape():
    (latent,) = call(EmptyLatentImage, width=96, height=64, batch_size=3)
    assert latent["samples"].shape == (3, 4, 8, 12) and not latent["samples"].any()


def _latent(batch=1, h=8, w=12):
    return {"samples": torch.randn(batch, 4, h, w, generator=torch.Generator().manual_seed(0))}


@pytest.mark.parametrize("method", ["nearest-exact", "bilinear", "area", "bicubic", "bislerp"])
def test_latent_upscale_sizes(method):
    source = _latent()
    (out,) = call(
        LatentUpscale, samples=source, upscale_method=method, width=192, height=128, crop="disabled"
    )
    assert out["samples"].shape == (1, 4, 16, 24) and torch.isfinite(out["samples"]).all()
    (same,) = call(LatentUpscale, samples=source, upscale_method=method, width=0, height=0, crop="disabled")
    assert torch.equal(same["samples"], source["samples"])
    (keep,) = call(LatentUpscale, samples=source, upscale_method=method, width=0, height=128, crop="disabled")
    assert keep["samples"].shape == (1, 4, 16, 24)  # width from the 3:2 aspect ratio
    (small,) = call(LatentUpscale, samples=source, upscale_method=method, width=8, height=0, crop="disabled")
    assert small["samples"].shape[-1] == 8  # derived sizes are at least 64 px


def test_latent_upscale_center_crop_takes_the_middle():
    source = {"samples": torch.arange(12.0).repeat(1, 4, 12, 1)}  # columns 0..11
    (out,) = call(
        LatentUpscale, samples=source, upscale_method="nearest-exact", width=96, height=96, crop="center"
    )
    assert out["samples"].shape == (1, 4, 12, 12)
    (cropped,) = call(
        LatentUpscale, samples=source, upscale_method="nearest-exact", width=64, height=96, crop="center"
    )
    assert cropped["samples"][0, 0, 0].tolist() == [2.0, 3, 4, 5, 6, 7, 8, 9]


def test_bislerp_keeps_vector_length_where_bilinear_shrinks_it():
    samples = torch.zeros(1, 4, 4, 2)
    samples[:, 0, :, 0] = 1.0  # unit vectors along channel 0 and channel 1: orthogonal neighbours
    samples[:, 1, :, 1] = 1.0
    source = {"samples": samples}
    (slerped,) = call(LatentUpscaleBy, samples=source, upscale_method="bislerp", scale_by=2.0)
    (lerped,) = call(LatentUpscaleBy, samples=source, upscale_method="bilinear", scale_by=2.0)
    assert slerped["samples"].shape == (1, 4, 8, 4)
    assert torch.allclose(slerped["samples"].norm(dim=1), torch.ones(1, 8, 4), atol=1e-5)
    assert lerped["samples"].norm(dim=1).min() < 0.9


def test_latent_upscale_by_rounds_the_size():
    (out,) = call(LatentUpscaleBy, samples=_latent(), upscale_method="bilinear", scale_by=1.5)
    assert out["samples"].shape == (1, 4, 12, 18)


def test_latent_from_batch_slices_masks_and_records_positions():
    source = {**_latent(batch=4), "noise_mask": torch.rand(4, 1, 64, 96)}
    (out,) = call(LatentFromBatch, samples=source, batch_index=1, length=2)
    assert torch.equal(out["samples"], source["samples"][1:3])
    assert torch.equal(out["noise_mask"], source["noise_mask"][1:3])
    assert out["batch_index"] == [1, 2] and "batch_index" not in source
    (again,) = call(LatentFromBatch, samples=out, batch_index=1, length=5)
    assert again["batch_index"] == [2] and again["samples"].shape[0] == 1


def test_repeat_latent_batch_extends_positions():
    source = {**_latent(batch=2), "batch_index": [3, 4], "noise_mask": torch.rand(2, 1, 8, 12)}
    (out,) = call(RepeatLatentBatch, samples=source, amount=3)
    assert out["samples"].shape[0] == 6 and torch.equal(out["samples"][4:], source["samples"])
    assert out["batch_index"] == [3, 4, 5, 6, 7, 8] and out["noise_mask"].shape[0] == 6


def test_set_latent_noise_mask_reshapes():
    (out,) = call(SetLatentNoiseMask, samples=_latent(), mask=torch.ones(64, 96))
    assert out["noise_mask"].shape == (1, 1, 64, 96)


def _image(batch=1, height=64, width=64, channels=3):
    return torch.rand(batch, height, width, channels, generator=torch.Generator().manual_seed(2))


def test_vae_encode_decode_shapes_and_range():
    vae = tiny_models.sd1_vae()
    (latent,) = call(VAEEncode, pixels=_image(2, 64, 48), vae=vae)
    assert latent["samples"].shape == (2, 4, 8, 6)
    (images,) = call(VAEDecode, samples=latent, vae=vae)
    assert images.shape == (2, 64, 48, 3) and images.min() >= 0 and images.max() <= 1


def test_vae_encode_is_the_posterior_mean_and_ignores_alpha():
    vae = tiny_models.sd1_vae()
    rgb = _image()
    rgba = torch.cat([rgb, torch.rand(1, 64, 64, 1)], dim=-1)
    (a,) = call(VAEEncode, pixels=rgb, vae=vae)
    (b,) = call(VAEEncode, pixels=rgba, vae=vae)
    assert torch.equal(a["samples"], b["samples"])
    with torch.no_grad():
        mean = vae.vae.encode(rgb.movedim(-1, 1) * 2 - 1).latent_dist.mean
    assert torch.allclose(a["samples"], mean)


def test_vae_encode_crops_to_a_multiple_of_the_downscale_ratio():
    (latent,) = call(VAEEncode, pixels=_image(1, 70, 67), vae=tiny_models.sd1_vae())
    assert latent["samples"].shape == (1, 4, 8, 8)


def test_vae_encode_for_inpaint_greys_masked_pixels_and_grows_the_mask():
    vae = tiny_models.sd1_vae()
    pixels = _image()
    mask = torch.zeros(1, 64, 64)
    mask[:, 16:32, 16:32] = 1.0
    (latent,) = call(VAEEncodeForInpaint, pixels=pixels, vae=vae, mask=mask, grow_mask_by=6)
    greyed = pixels.clone()
    greyed[:, 16:32, 16:32, :] = 0.5
    (expected,) = call(VAEEncode, pixels=greyed, vae=vae)
    assert torch.allclose(latent["samples"], expected["samples"], atol=1e-6)
    grown = latent["noise_mask"]
    assert grown.shape == (1, 1, 64, 64) and grown.sum() > mask.sum()
    # a 6-pixel box: 2 pixels before and 3 after the masked square (rows and columns 16..31)
    assert grown[0, 0, 14:35, 14:35].all() and grown[0, 0].sum() == 21 * 21


def test_vae_decode_flattens_video_latents():
    latent = {"samples": torch.randn(1, 4, 2, 8, 8)}
    (images,) = call(VAEDecode, samples=latent, vae=tiny_models.sd1_vae())
    assert images.shape == (2, 64, 64, 3)


def test_missing_vae_is_a_clear_error():
    with pytest.raises(ValueError, match="vae input is empty"):
        call(VAEDecode, samples=_latent(), vae=None)
