"""Whole graphs through the executor: txt2img to a PNG, progress and previews, cancellation, validation,
and the object_info the editor sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from graphflow.context import CancelToken
from graphflow.events import Progress
from graphflow.sampling.schedulers import SAMPLER_NAMES, SCHEDULER_NAMES

from .graphs import txt2img

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "object_info_core.json"


@pytest.mark.parametrize("family", ["sd1", "sdxl"])
def test_txt2img_graph_saves_a_png_and_reports_every_step(run_graph, runtime, family):
    outcome, events = run_graph(txt2img(family=family, steps=4))
    assert outcome.ok, outcome.error
    (entry,) = outcome.outputs["9"]["images"]
    with Image.open(runtime.paths.output / entry["filename"]) as saved:
        assert saved.size == (64, 64)
        assert len(set(saved.getdata())) > 10  # not a blank image
    progress = [e for e in events if isinstance(e, Progress) and e.node_id == "3"]
    assert [(p.value, p.max) for p in progress] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert all(p.preview is not None and max(p.preview.size) <= 512 for p in progress)


def test_no_previews_when_disabled(run_graph, runtime):
    runtime.preview_method = "none"
    _, events = run_graph(txt2img(steps=2))
    progress = [e for e in events if isinstance(e, Progress)]
    assert len(progress) == 2 and all(p.preview is None for p in progress)
    runtime.preview_method = "auto"
    _, events = run_graph(txt2img(steps=2, seed=9), extra_data={"preview_method": "none"})
    assert all(e.preview is None for e in events if isinstance(e, Progress))


def test_cancellation_mid_sampling(runtime):
    from graphflow.scheduler import Executor

    cancel = CancelToken()
    steps_seen = []

    def on_event(event):
        if isinstance(event, Progress):
            steps_seen.append(event.value)
            if event.value == 2:
                cancel.cancel("stop")

    executor = Executor(runtime)
    graph, _ = executor.validate(txt2img(steps=10))
    outcome = executor.execute(graph, prompt_id="c", on_event=on_event, cancel=cancel)
    assert outcome.status == "interrupted"
    assert steps_seen == [1, 2]
    assert not list(runtime.paths.output.glob("*.png"))


def test_unsupported_sampler_is_a_validation_error_listing_the_supported_ones(runtime):
    from graphflow.scheduler import Executor

    graph, report = Executor(runtime).validate(txt2img(sampler="euler_cfg_pp"))
    assert graph is None
    (problem,) = report.node_errors["3"].problems
    assert (
        problem.type == "value_not_in_list" and "dpmpp_2m" in problem.details and "uni_pc" in problem.details
    )


def test_combos_publish_exactly_the_implemented_names(runtime):
    info = runtime.registry.object_info(runtime)
    ksampler = info["KSampler"]["input"]["required"]
    assert ksampler["sampler_name"][0] == list(SAMPLER_NAMES)
    assert ksampler["scheduler"][0] == list(SCHEDULER_NAMES)
    assert info["KSamplerAdvanced"]["input"]["required"]["sampler_name"][0] == list(SAMPLER_NAMES)


OWN = [
    "CLIPTextEncode",
    "CLIPSetLastLayer",
    "EmptyLatentImage",
    "KSampler",
    "KSamplerAdvanced",
    "VAEDecode",
    "VAEEncode",
    "SaveImage",
    "PreviewImage",
    "LoadImage",
    "LoadImageMask",
    "ImageScaleBy",
]


@pytest.mark.parametrize("class_type", OWN)
def test_object_info_matches_comfyui(runtime, class_type):
    reference = json.loads(FIXTURE.read_text())[class_type]
    ours = runtime.registry.object_info(runtime)[class_type]
    for section, inputs in reference["input"].items():
        for name, spec in inputs.items():
            mine = ours["input"][section][name]
            if (
                isinstance(spec, list) and spec and isinstance(spec[0], list)
            ):  # combos: values differ by design
                assert isinstance(mine[0], list) and mine[1:] == spec[1:], name
            else:
                assert mine == spec, name
    for key, value in reference.items():
        if key != "input":
            assert ours[key] == value, key
