"""The demo data set: deterministic, captioned as promised, and with a held-out split that never leaks."""

from __future__ import annotations

import numpy as np

from graphflow.demo.shapes import (
    BACKGROUNDS,
    COLOURS,
    HELD_OUT_COUNT,
    Scene,
    all_scenes,
    evaluation_examples,
    held_out_scenes,
    render,
    training_examples,
    training_scenes,
)
from graphflow.models.tokenizer import clip_tokenizer


def test_same_seed_gives_the_same_examples_and_pixels():
    first = list(training_examples(40, seed=5))
    second = list(training_examples(40, seed=5))
    assert first == second
    for a, b in zip(first[:10], second[:10], strict=True):
        assert np.array_equal(np.asarray(a.image()), np.asarray(b.image()))
    assert first != list(training_examples(40, seed=6))


def test_held_out_split_is_fixed_and_disjoint_from_training():
    held_out = set(held_out_scenes())
    assert len(held_out) == HELD_OUT_COUNT
    assert held_out.isdisjoint(training_scenes())
    assert len(training_scenes()) + len(held_out) == len(all_scenes()) == 972
    drawn = {example.scene for example in training_examples(5000, seed=123)}
    assert drawn.isdisjoint(held_out)
    assert len(drawn) > 800  # the sampler reaches (nearly) every training scene


def test_every_word_of_the_held_out_scenes_is_seen_in_training():
    training = training_scenes()
    for field in ("shape", "colour", "size", "position", "background"):
        assert {getattr(s, field) for s in held_out_scenes()} <= {getattr(s, field) for s in training}


def test_captions_name_every_attribute_and_can_drop_phrases():
    scene = Scene("circle", "red", "small", "in the top left", "white")
    assert scene.caption() == "a small red circle in the top left on a white background"
    assert scene.caption(size=False, position=False, background=False) == "a red circle"
    captions = [example.caption for example in training_examples(400, seed=1)]
    assert any(caption.endswith("background") for caption in captions)
    assert any(not caption.endswith("background") for caption in captions)
    assert all(e.caption == e.scene.caption() for e in evaluation_examples())


def test_render_draws_the_named_colours():
    image = np.asarray(render(Scene("square", "blue", "large", "in the center", "gray")))
    assert image.shape == (128, 128, 3)
    assert tuple(image[64, 64]) == COLOURS["blue"]
    assert tuple(image[2, 2]) == BACKGROUNDS["gray"]


def test_colour_and_shape_words_are_single_clip_tokens():
    # Prompt-to-Prompt word swaps need one token per word.
    tokenizer = clip_tokenizer()
    for word in (*COLOURS, *BACKGROUNDS, "circle", "square", "triangle", "small", "large"):
        assert len(tokenizer(word).input_ids) == 3, word
