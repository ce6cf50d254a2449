"""The demo model's training script: its grounding loss on tiny tensors, and a --quick run end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from graphflow.demo.shapes import Example, Placement, Scene

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts" / "demo_model"


@pytest.fixture(scope="module")
def grounding():
    sys.path.insert(0, str(SCRIPTS))
    try:
        import grounding

        yield grounding
    finally:
        sys.path.remove(str(SCRIPTS))


def test_coverage_marks_the_latent_cells_under_the_shape(grounding):
    # the training scripts' data module, importable while the fixture has their folder on the path
    from data import background_tensor, images_to_tensor

    scene = Scene("square", "red", "large", "in the top left", "white")
    # a 48 px square from (10, 10) to (57, 57): cells 1..7 of 8 px are covered fully, cell 0 by 6/8
    example = Example(scene, Placement(48, 34, 34), scene.caption())
    cover = grounding.coverage(images_to_tensor([example]), background_tensor([example]))[0]
    assert cover.shape == (16, 16)
    assert torch.all(cover[2:7, 2:7] == 1.0)
    assert torch.all(cover[8:, :] == 0.0) and torch.all(cover[:, 8:] == 0.0)
    assert 0.0 < float(cover[1, 3]) < 1.0  # the anti-aliased edge is partly covered


def test_grounding_loss_is_zero_inside_the_mask_and_one_outside(grounding):
    cover = torch.zeros(2, 16, 16)
    cover[:, :8, :8] = 1.0  # the shape fills the top-left quarter
    inside = torch.zeros(16, 16)
    inside[:8, :8] = 1.0
    grounded = torch.zeros(2, 77, dtype=torch.bool)
    grounded[:, 3] = True
    probs = torch.full((2, 8, 256, 77), 1e-9)  # [batch, heads, positions, tokens]
    probs[..., 3] = inside.flatten().view(1, 1, 256) + 1e-9
    assert float(grounding.grounding_loss([probs], grounded, cover)) == pytest.approx(0.0, abs=1e-6)
    probs[..., 3] = (1.0 - inside).flatten().view(1, 1, 256)
    assert float(grounding.grounding_loss([probs], grounded, cover)) == pytest.approx(1.0, abs=1e-6)
    # an 8×8 layer sees the same quarter through pooling; uniform attention puts a quarter of it inside
    coarse = torch.full((2, 8, 64, 77), 1.0 / 64)
    assert float(grounding.grounding_loss([coarse], grounded, cover)) == pytest.approx(0.75, abs=1e-6)
    # rows without object tokens (empty captions) add nothing
    assert float(grounding.grounding_loss([coarse], torch.zeros_like(grounded), cover)) == 0.0


def test_object_words_are_single_clip_tokens(grounding):
    from graphflow.models.tokenizer import clip_tokenizer

    ids = grounding.object_token_ids(clip_tokenizer())
    assert ids.shape == (9,) and len(set(ids.tolist())) == 9


@pytest.mark.slow
def test_quick_training_run_writes_a_checkpoint_the_loader_reads(tmp_path):
    work = tmp_path / "run"
    result = subprocess.run(
        # with the optional grounding loss switched on, so every code path of the UNet stage runs
        [sys.executable, "train.py", "--quick", "--grounding-weight", "0.05", "--threads", "1"]
        + ["--work-dir", str(work)],
        cwd=SCRIPTS,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| **total** |" in result.stdout
    timings = json.loads((work / "timings.json").read_text())
    assert set(timings) == {"data", "vae", "check", "latents", "unet", "export"}
    losses = json.loads((work / "unet_log.json").read_text())["loss"]
    assert len(losses["diffusion"]) == len(losses["grounding"]) == 4
    assert all(0.0 < value <= 1.0 for value in losses["grounding"])

    from graphflow.demo.architecture import UNET_CONFIG
    from graphflow.models.load import load_checkpoint

    # like a real SD1 file: the loader infers the architecture from the weights' shapes
    model, _, _ = load_checkpoint(work / "graphflow-demo.safetensors", dtype=torch.float32)
    assert list(model.unet.config.block_out_channels) == UNET_CONFIG["block_out_channels"]
    assert model.unet.config.cross_attention_dim == UNET_CONFIG["cross_attention_dim"]
