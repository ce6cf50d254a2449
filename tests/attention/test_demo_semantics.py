"""What the edits mean, on the demo checkpoint (coloured shapes at 128 px): a colour-word swap recolours the
shape and keeps its outline, re-weighting a colour word moves its saturation, MasaCtrl keeps the source's
colour while the target prompt moves or resizes the shape."""

from __future__ import annotations

import numpy as np
import pytest

from graphflow.attention.edits import MasaCtrl, PromptEdit
from graphflow.demo.classify import classify

from .demo_runs import DEMO, foreground, generate, iou, saturation

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DEMO.exists(), reason=f"the demo checkpoint is not at {DEMO} yet"),
]

# The targets, over its seed counts. On the shipped demo checkpoint they are not met yet (figures in
# the reasons, measured 2026-12-06 on the checkpoint trained with the VAE colour probe); those are strict
# xfails, which fail, asking to be promoted, as soon as the edits reach the target.
SEEDS = range(20)
# (shape, source colour, target colour) cycled over the seeds
SWAPS = [
    ("circle", "red", "green"),
    ("square", "blue", "yellow"),
    ("triangle", "purple", "red"),
    ("circle", "yellow", "blue"),
    ("square", "green", "pink"),
]


def swap_prompts(seed: int) -> tuple[str, str, str]:
    shape, before, after = SWAPS[seed % len(SWAPS)]
    return f"a {before} {shape} on a white background", f"a {after} {shape} on a white background", after


@pytest.mark.xfail(
    strict=True,
    reason="measured: recoloured 20/20, shape IoU >= 0.8 in 0/20 (median IoU 0.05); the demo model carries "
    "layout through attention values, not maps (docs/demo-model.md, token grounding)",
)
def test_a_colour_word_swap_recolours_the_shape_and_keeps_its_outline():
    recoloured, kept, ious = 0, 0, []
    for seed in SEEDS:
        source, target, colour = swap_prompts(seed)
        edit = PromptEdit("replace", source, target, cross_replace=(0.0, 0.8), self_replace=(0.0, 0.4))
        before, after = generate(edit, source, target, seed)
        overlap = iou(foreground(before), foreground(after))
        ious.append(overlap)
        recoloured += classify(after).colour == colour
        kept += overlap >= 0.8
    count = len(SEEDS)
    summary = (
        f"recoloured {recoloured}/{count}, IoU >= 0.8 in {kept}/{count}, IoUs {np.round(ious, 2).tolist()}"
    )
    assert recoloured >= 0.9 * count, summary
    assert kept >= 0.9 * count, summary


@pytest.mark.parametrize(
    ("scale", "direction"),
    [
        pytest.param(
            3.0,
            1,
            id="up",
            marks=pytest.mark.xfail(
                strict=True, reason="measured over 8 seeds: mean saturation change -0.013 for scale 3"
            ),
        ),
        pytest.param(
            -1.0,
            -1,
            id="down",
            marks=pytest.mark.xfail(
                strict=True, reason="measured over 8 seeds: mean saturation change +0.007 for scale -1"
            ),
        ),
    ],
)
def test_reweighting_a_colour_word_moves_its_saturation(scale, direction):
    changes = []
    for seed in range(8):
        prompt = "a pink circle on a white background"
        edit = PromptEdit("reweight", prompt, prompt, scales=(("pink", scale),))
        source, target = generate(edit, prompt, prompt, seed)
        changes.append(saturation(target) - saturation(source))
    mean = float(np.mean(changes))
    assert direction * mean > 0.02, f"saturation changes {np.round(changes, 3).tolist()} (mean {mean:.3f})"


@pytest.mark.xfail(
    strict=True,
    reason="measured over 10 seeds with the paper's defaults: the target keeps the source's colour in 0/10 "
    "(it draws the colourless prompt green) and follows its prompt's size or position in 1/10",
)
def test_masactrl_keeps_the_source_colour_while_the_prompt_moves_and_shrinks_the_shape():
    kept, moved = 0, 0
    readings = []
    seeds = range(10)
    for seed in seeds:
        source = "a large yellow triangle in the center on a black background"
        target = "a small triangle in the top left on a black background"
        before, after = generate(
            MasaCtrl(start_step=4), source, target, seed, sampler="ddim", scheduler="ddim_uniform"
        )
        first, second = classify(before), classify(after)
        readings.append((first.colour, second.colour, second.size, second.position))
        kept += first.colour is not None and second.colour == first.colour
        moved += second.size == "small" or second.position == "in the top left"
    assert moved >= 0.8 * len(seeds), f"layout followed the target {moved}/{len(seeds)}: {readings}"
    assert kept >= 0.8 * len(seeds), f"colour kept {kept}/{len(seeds)}: {readings}"
