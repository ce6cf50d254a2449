"""graphflow: a typed node-graph runtime for latent-diffusion image generation."""
