"""Attention editing: Prompt-to-Prompt, MasaCtrl and cross-attention maps (issue 6).

One concept per module:

- :mod:`.edits` — the ATTENTION_EDIT values (pure, immutable descriptions made by the edit nodes);
- :mod:`.words` — prompt words to CLIP token positions;
- :mod:`.mappers` — P2P token maps (replace, refine alignment, equalizer) and schedules;
- :mod:`.layers` — attention layers by name: place, execution-order block, self/cross;
- :mod:`.state` — the per-run state shared by processors (step, batch layout, recorded maps);
- :mod:`.processors` — diffusers attention processors (P2P maps, MasaCtrl K/V swap, recording);
- :mod:`.install` — the context manager that installs processors and always restores the originals;
- :mod:`.controller` — sampler hooks that drive one edit through a sampling run;
- :mod:`.heatmap` — per-word cross-attention maps rendered over an image;
- :mod:`.inversion` — DDIM inversion of a real image's latent.

Importing this package imports nothing heavy.
"""
