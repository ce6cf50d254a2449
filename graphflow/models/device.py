"""The one place that chooses the device and dtype models run in.

Nothing here runs at import: whoever creates the runtime calls :meth:`DevicePolicy.detect` once and passes
the policy to the :class:`~graphflow.models.manager.ModelManager`.

Rules (``dtype="auto"``):

* CUDA when ``torch.cuda.is_available()``, else CPU.
* CUDA: fp16 for the UNet and text encoders. The VAE gets bf16 when the GPU supports it, else fp32,
  because SDXL's VAE overflows fp16.
* CPU: bf16 only when the CPU computes bf16 in hardware (AVX512-BF16 or AMX) **and** the checkpoint has
  more than :data:`CPU_BF16_MIN_PARAMS` parameters, else fp32. On this class of machine bf16 made an SD1.5
  (1.07 G parameters) UNet step ~1.9x faster and its VAE decode ~1.7x faster; for the tiny demo models
  (under 10 M parameters) the time goes to framework overhead, and fp32 keeps them exact. 300 M sits
  well between the two and above every "tiny" model the project trains.

An explicit ``dtype`` (``"fp32" | "bf16" | "fp16"``) overrides everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch

DtypeChoice = Literal["auto", "fp32", "bf16", "fp16"]
ModelRole = Literal["unet", "text_encoder", "vae"]

CPU_BF16_MIN_PARAMS = 300_000_000
"""Smallest checkpoint (in parameters) that runs in bf16 on a CPU with hardware bf16 support."""

EXPLICIT_DTYPES: dict[str, torch.dtype] = {
    "fp32": torch.float32,
    "bf16": torch.bfloat16,
    "fp16": torch.float16,
}


def cpu_has_hardware_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX tiles)."""
    checks = (
        getattr(torch.cpu, "_is_avx512_bf16_supported", None),
        getattr(torch.cpu, "_is_amx_tile_supported", None),
    )
    for check in checks:
        try:
            if check is not None and check():
                return True
        except RuntimeError:
            pass
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return any(flag in flags.split() for flag in ("avx512_bf16", "amx_bf16"))


@dataclass(frozen=True)
class DevicePolicy:
    """Where models live and in which dtype.

    ``device``: the torch device for all models. ``dtype``: ``"auto"`` or an explicit choice.
    ``hardware_bf16``: whether the device computes bf16 natively (CPU: AVX512-BF16/AMX; CUDA: compute
    capability >= 8.0).
    """

    device: torch.device
    dtype: DtypeChoice = "auto"
    hardware_bf16: bool = False

    @classmethod
    def detect(cls, dtype: DtypeChoice = "auto", device: str | torch.device | None = None) -> DevicePolicy:
        """Probe the machine (call once, when the runtime starts)."""
        if dtype not in ("auto", *EXPLICIT_DTYPES):
            raise ValueError(f"unknown dtype {dtype!r}; choose one of auto, fp32, bf16, fp16")
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        device = torch.device(device)
        if device.type == "cuda":
            hardware_bf16 = bool(torch.cuda.is_bf16_supported())
        elif device.type == "cpu":
            hardware_bf16 = cpu_has_hardware_bf16()
        else:
            hardware_bf16 = False
        return cls(device=device, dtype=dtype, hardware_bf16=hardware_bf16)

    @classmethod
    def cpu_fp32(cls) -> DevicePolicy:
        """A fixed CPU/fp32 policy (tests, exact reproduction)."""
        return cls(device=torch.device("cpu"), dtype="fp32")

    def dtype_for(self, num_params: int, role: ModelRole = "unet") -> torch.dtype:
        """The dtype for one component of a checkpoint that has ``num_params`` parameters in all."""
        if self.dtype != "auto":
            return EXPLICIT_DTYPES[self.dtype]
        if self.device.type == "cuda":
            if role == "vae":
                return torch.bfloat16 if self.hardware_bf16 else torch.float32
            return torch.float16
        if self.device.type == "cpu" and self.hardware_bf16 and num_params > CPU_BF16_MIN_PARAMS:
            return torch.bfloat16
        return torch.float32

    def memory_budget_bytes(self) -> int:
        """A default model-cache budget: 80% of free VRAM on CUDA, half of the available RAM on CPU."""
        if self.device.type == "cuda":
            free, _total = torch.cuda.mem_get_info(self.device)
            return int(free * 0.8)
        import psutil

        return int(psutil.virtual_memory().available * 0.5)

    def describe(self) -> str:
        bf16 = "hardware bf16" if self.hardware_bf16 else "no hardware bf16"
        return f"{self.device} ({bf16}), dtype {self.dtype}"


def choose_device(device: str | None = None, dtype: DtypeChoice | str = "auto") -> DevicePolicy:
    """The runtime's device policy: ``device`` ``None`` picks CUDA when available, else CPU; ``dtype`` is
    ``"auto" | "fp32" | "bf16" | "fp16"`` (see the module docstring). Probes the machine: call once."""
    return DevicePolicy.detect(dtype=dtype, device=device)  # type: ignore[arg-type]
