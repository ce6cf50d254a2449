"""graphflow's embedded demo model: its shape world, a pixel classifier, and helpers to load the checkpoint."""
