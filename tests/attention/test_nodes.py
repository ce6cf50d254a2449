"""The attention nodes in graphs on the tiny stack: edits, the sampler, heat-maps, inversion, and errors that
name the node, the input and the fix."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

SOURCE, TARGET = "a red circle on a blue background", "a green circle on a blue background"


def edit_graph(edit: dict | None, sampler="euler", target=TARGET, steps=3, heatmap_words="circle"):
    prompt = {
        "4": {"class_type": "TinyCheckpoint", "inputs": {"family": "sd1"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": SOURCE, "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["4", 1]}},
        "8": {"class_type": "CLIPTextEncode", "inputs": {"text": target, "clip": ["4", 1]}},
        "3": {
            "class_type": "KSamplerAttentionEdit",
            "inputs": {
                "model": ["4", 0],
                "seed": 5,
                "steps": steps,
                "cfg": 6.0,
                "sampler_name": sampler,
                "scheduler": "normal",
                "source_positive": ["6", 0],
                "target_positive": ["8", 0],
                "negative": ["7", 0],
                "latent_image": ["5", 0],
                "denoise": 1.0,
                "record_attention": True,
            },
        },
        "10": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "11": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 1], "vae": ["4", 2]}},
        "12": {
            "class_type": "AttentionHeatMap",
            "inputs": {
                "maps": ["3", 2],
                "image": ["11", 0],
                "words": heatmap_words,
                "branch": "target",
                "prompt": "",
                "opacity": 0.6,
            },
        },
        "13": {"class_type": "SaveImage", "inputs": {"images": ["12", 0], "filename_prefix": "heat"}},
        "14": {"class_type": "SaveImage", "inputs": {"images": ["11", 0], "filename_prefix": "target"}},
    }
    if edit is not None:
        prompt["20"] = edit
        prompt["3"]["inputs"]["edit"] = ["20", 0]
    return prompt


def replace_node(source=SOURCE, target=TARGET, **extra):
    inputs = {
        "source_prompt": source,
        "target_prompt": target,
        "cross_replace": 0.8,
        "self_replace": 0.4,
        "word_schedule": "",
        **extra,
    }
    return {"class_type": "AttentionReplace", "inputs": inputs}


def error_text(outcome) -> str:
    assert not outcome.ok
    return outcome.error.exception_message


def test_replace_graph_saves_the_target_and_one_heat_map_per_word(run_graph, runtime):
    outcome, _ = run_graph(edit_graph(replace_node(), heatmap_words="green, circle"))
    assert outcome.ok, outcome.error
    heat = outcome.outputs["13"]["images"]
    assert len(heat) == 2
    for entry in heat:
        with Image.open(runtime.paths.folder("output") / entry["subfolder"] / entry["filename"]) as png:
            pixels = np.asarray(png.convert("RGB"), dtype=np.float32)
        assert pixels.shape == (64, 64, 3) and pixels.std() > 5


@pytest.mark.parametrize(
    "edit",
    [
        {
            "class_type": "AttentionRefine",
            "inputs": replace_node(target="a big green circle on a blue background")["inputs"],
        },
        {
            "class_type": "AttentionReweight",
            "inputs": {
                "prompt": SOURCE,
                "word": "red",
                "scale": 3.0,
                "cross_replace": 0.8,
                "self_replace": 0.4,
            },
        },
        {
            "class_type": "MasaCtrl",
            "inputs": {
                "start_step": 1,
                "start_layer": -1,
                "mode": "union",
                "auto_mask": True,
                "source_prompt": SOURCE,
                "target_prompt": TARGET,
                "source_words": "circle",
                "target_words": "circle",
                "mask_threshold": 0.1,
            },
        },
    ],
    ids=["refine", "reweight", "masactrl"],
)
def test_every_edit_node_drives_the_sampler(run_graph, edit):
    target = (
        edit["inputs"].get("target_prompt", TARGET) if edit["class_type"] != "AttentionReweight" else SOURCE
    )
    outcome, _ = run_graph(edit_graph(edit, sampler="dpmpp_2m", target=target, heatmap_words="circle"))
    assert outcome.ok, outcome.error


def test_reweight_chains_onto_replace_and_local_blend_wraps_it(run_graph):
    prompt = edit_graph(replace_node())
    prompt["21"] = {
        "class_type": "AttentionReweight",
        "inputs": {
            "prompt": "",
            "word": "green",
            "scale": 2.0,
            "cross_replace": 0.8,
            "self_replace": 0.4,
            "previous": ["20", 0],
        },
    }
    prompt["22"] = {
        "class_type": "AttentionLocalBlend",
        "inputs": {
            "edit": ["21", 0],
            "source_words": "red circle",
            "target_words": "green circle",
            "threshold": 0.3,
            "start": 0.0,
        },
    }
    prompt["3"]["inputs"]["edit"] = ["22", 0]
    outcome, _ = run_graph(prompt, keep_values=True)
    assert outcome.ok, outcome.error


def test_a_word_missing_from_the_prompt_names_the_node_and_the_words_to_use(run_graph):
    prompt = edit_graph(replace_node(word_schedule="lion:0.4"))
    message = error_text(run_graph(prompt)[0])
    assert "AttentionReplace" in message and "'lion'" in message and "green" in message


def test_a_word_swap_with_different_word_counts_points_to_refine(run_graph):
    prompt = edit_graph(replace_node(target="a big green circle on a blue background"))
    message = error_text(run_graph(prompt)[0])
    assert (
        "AttentionReplace" in message and "same number of words" in message and "AttentionRefine" in message
    )


def test_an_edit_without_a_target_conditioning_is_refused(run_graph):
    prompt = edit_graph(replace_node())
    del prompt["3"]["inputs"]["target_positive"]
    assert "target_positive" in error_text(run_graph(prompt)[0])


def test_heat_map_word_not_in_prompt(run_graph):
    message = error_text(run_graph(edit_graph(replace_node(), heatmap_words="square"))[0])
    assert "AttentionHeatMap" in message and "'square'" in message


def test_ddim_inversion_makes_the_source_branch_reconstruct_the_image(run_graph, sd1):
    from graphflow.nodes.attention_sampler import DDIMInversion, KSamplerAttentionEdit

    from graphflow.attention.edits import MasaCtrl
    from graphflow.conditioning.encode import encode_prompt

    model, clip, _ = sd1
    empty = [[*encode_prompt(clip, "")[:1], {}]]
    target = [[*encode_prompt(clip, TARGET)[:1], {}]]
    z0 = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0))

    class Ctx:
        runtime = None
        extra_data: dict = {}

        def progress(self, *args):
            pass

    import graphflow.sampling.preview as preview

    original = preview.previews_enabled
    preview.previews_enabled = lambda *a: False
    try:
        node = object.__new__(DDIMInversion)
        node.__dict__.update(
            model=model, positive=empty, negative=empty, latent_image={"samples": z0}, steps=6, cfg=1.0
        )
        inverted = node.run(Ctx()).latent
        sampler = object.__new__(KSamplerAttentionEdit)
        sampler.__dict__.update(
            model=model,
            seed=0,
            steps=6,
            cfg=1.0,
            sampler_name="ddim",
            scheduler="ddim_uniform",
            source_positive=empty,
            target_positive=target,
            negative=empty,
            latent_image=inverted,
            denoise=1.0,
            record_attention=False,
            edit=MasaCtrl(start_step=0),
        )
        result = sampler.run(Ctx())
        assert torch.allclose(result.source["samples"], z0, atol=1e-4)
        assert (result.target["samples"] - z0).abs().max() > 1e-2
        sampler.__dict__["scheduler"] = "normal"
        with pytest.raises(ValueError, match="ddim_uniform, steps 6"):
            sampler.run(Ctx())
    finally:
        preview.previews_enabled = original
