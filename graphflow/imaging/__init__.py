"""Tensor image helpers for nodes: resizing (latents and pixels), VAE coding, image files."""
