"""Sampling on diffusers schedulers with ComfyUI's KSampler semantics.

- :mod:`~graphflow.sampling.schedulers`: ComfyUI sampler/scheduler names mapped to diffusers schedulers.
- :mod:`~graphflow.sampling.loop`: :func:`~graphflow.sampling.loop.sample`, the denoising loop.
- :mod:`~graphflow.sampling.guidance`: CFG over conditioning lists (areas, strengths, batching).
- :mod:`~graphflow.sampling.noise`: seeded CPU noise; :mod:`~graphflow.sampling.hooks`: extension points.
- :mod:`~graphflow.sampling.preview`: latent-to-RGB live previews.
"""
