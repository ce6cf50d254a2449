"""Resize ``[B, C, H, W]`` tensors the ways ComfyUI's upscale nodes offer.

Methods: ``nearest-exact``, ``bilinear``, ``area``, ``bicubic`` (torch interpolation), ``lanczos`` (Pillow, per
channel in float so nothing is quantised) and ``bislerp`` (bilinear resampling that interpolates the channel
vector of each pixel along the great circle between its neighbours and lerps its length, which keeps latent
vectors from shrinking towards zero the way a plain average does).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

LATENT_METHODS = ("nearest-exact", "bilinear", "area", "bicubic", "bislerp")
IMAGE_METHODS = ("nearest-exact", "bilinear", "area", "bicubic", "lanczos")
CROP_METHODS = ("disabled", "center")


def center_crop_to_aspect(x: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """Crop the middle of ``x`` ``[B, C, H, W]`` to the aspect ratio ``width : height``."""
    old_h, old_w = x.shape[-2:]
    old_aspect, new_aspect = old_w / old_h, width / height
    if old_aspect > new_aspect:
        keep = max(1, round(old_w * new_aspect / old_aspect))
        left = (old_w - keep) // 2
        return x[..., left : left + keep]
    if old_aspect < new_aspect:
        keep = max(1, round(old_h * old_aspect / new_aspect))
        top = (old_h - keep) // 2
        return x[..., top : top + keep, :]
    return x


def _slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation of channel vectors (dim 1) with linearly interpolated length."""
    len_a, len_b = a.norm(dim=1, keepdim=True), b.norm(dim=1, keepdim=True)
    unit_a, unit_b = a / len_a.clamp_min(1e-12), b / len_b.clamp_min(1e-12)
    cos = (unit_a * unit_b).sum(dim=1, keepdim=True).clamp(-1.0, 1.0)
    angle = torch.acos(cos)
    sin = torch.sin(angle)
    straight = sin.abs() < 1e-4  # (nearly) parallel vectors: plain lerp of the directions
    safe_sin = torch.where(straight, torch.ones_like(sin), sin)
    weight_a = torch.where(straight, 1 - t, torch.sin((1 - t) * angle) / safe_sin)
    weight_b = torch.where(straight, t, torch.sin(t * angle) / safe_sin)
    direction = weight_a * unit_a + weight_b * unit_b
    return direction * (len_a * (1 - t) + len_b * t)


def _bislerp_axis(x: torch.Tensor, size: int, dim: int) -> torch.Tensor:
    old = x.shape[dim]
    positions = ((torch.arange(size, dtype=torch.float64) + 0.5) * old / size - 0.5).clamp(0, old - 1)
    low = positions.floor().long()
    high = (low + 1).clamp(max=old - 1)
    shape = [1] * x.ndim
    shape[dim] = size
    t = (positions - low).to(x.dtype).reshape(shape)
    return _slerp(x.index_select(dim, low), x.index_select(dim, high), t)


def bislerp(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    return _bislerp_axis(_bislerp_axis(x.float(), width, 3), height, 2).to(x.dtype)


def _lanczos(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    from PIL import Image

    planes = x.float().cpu().numpy()
    out = np.empty((*planes.shape[:2], height, width), dtype=np.float32)
    for b in range(planes.shape[0]):
        for c in range(planes.shape[1]):
            plane = Image.fromarray(planes[b, c], mode="F")
            out[b, c] = np.asarray(plane.resize((width, height), Image.Resampling.LANCZOS))
    return torch.from_numpy(out).to(x.device, x.dtype)


def resize(x: torch.Tensor, width: int, height: int, method: str, crop: str = "disabled") -> torch.Tensor:
    """Resize ``x`` ``[B, C, H, W]`` to ``height x width`` with ``method``, center-cropping first if asked."""
    if crop == "center":
        x = center_crop_to_aspect(x, width, height)
    if method == "bislerp":
        return bislerp(x, height, width)
    if method == "lanczos":
        return _lanczos(x, height, width)
    if method not in ("nearest-exact", "bilinear", "area", "bicubic"):
        raise ValueError(f"unknown resize method {method!r}")
    options = {"align_corners": False} if method in ("bilinear", "bicubic") else {}
    return F.interpolate(x.float(), size=(height, width), mode=method, **options).to(x.dtype)
