"""The pixel classifier reads rendered ground truth back perfectly."""

from __future__ import annotations

import numpy as np
from PIL import Image

from graphflow.demo.classify import classify
from graphflow.demo.shapes import Scene, evaluation_examples, render, training_examples


def test_classifier_is_right_on_every_rendered_attribute():
    examples = list(training_examples(300, seed=77)) + evaluation_examples()
    wrong = []
    for example in examples:
        matches = classify(example.image()).matches(example.scene)
        if not all(matches.values()):
            wrong.append((example.caption, matches))
    assert wrong == []


def test_classifier_reports_the_bounding_box_and_accepts_arrays():
    scene = Scene("triangle", "green", "large", "in the bottom right", "black")
    reading = classify(np.asarray(render(scene)))
    left, top, right, bottom = reading.bbox
    assert 50 <= right - left <= 58 and 50 <= bottom - top <= 58
    assert abs((left + right) / 2 - 94) <= 1 and abs((top + bottom) / 2 - 94) <= 1
    assert reading.fill_ratio < 0.6


def test_a_plain_image_has_no_shape():
    reading = classify(Image.new("RGB", (128, 128), (128, 128, 128)))
    assert reading.background == "gray"
    assert reading.shape is None and reading.colour is None
