"""API-format prompts used by the graph tests."""

from __future__ import annotations


def txt2img(
    sampler="euler", scheduler="normal", steps=3, seed=5, size=64, batch=1, family="sd1", save="SaveImage"
):
    output = {"class_type": save, "inputs": {"images": ["8", 0]}}
    if save == "SaveImage":
        output["inputs"]["filename_prefix"] = "test"
    return {
        "4": {"class_type": "TinyCheckpoint", "inputs": {"family": family}},
        "5": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": size, "height": size, "batch_size": batch},
        },
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a (red:1.2) cat", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
        "3": {
            "class_type": "KSampler",
            "inputs": {
                "model": ["4", 0],
                "seed": seed,
                "steps": steps,
                "cfg": 7.0,
                "sampler_name": sampler,
                "scheduler": scheduler,
                "positive": ["6", 0],
                "negative": ["7", 0],
                "latent_image": ["5", 0],
                "denoise": 1.0,
            },
        },
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": output,
    }
