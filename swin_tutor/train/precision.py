"""Reduced precision that pays: which dtype a forward or a training step should run in, on this machine.

``choose_dtype(precision, device)`` turns ``"fp32" | "bf16" | "fp16" | "auto"`` into a dtype;
``autocast(precision, device)`` is the matching context (float32: no autocast at all). The rules:

- bfloat16 pays on a CPU only when the CPU multiplies it natively: AVX512-BF16 (Intel Cooper Lake and
  later, AMD Zen 4 and later) or AMX (Intel Sapphire Rapids and later). Elsewhere PyTorch converts to
  float32 and back around every product, which is *slower* than float32, so ``"auto"`` stays in float32
  there; an explicit ``"bf16"`` still runs (to study its numerics) but warns.
- float16 only on CUDA (``"fp16"`` on a CPU is refused: CPUs without AVX512-FP16 emulate it slowly).
- On CUDA, ``"auto"`` is bf16 where the GPU supports it (Ampere and later), else fp16 (with a gradient
  scaler in the training loop).

Autocast keeps float32 weights and runs the matrix products in the low dtype: what training needs
(AdamW updates of ~1e-4 of a weight vanish in bf16's 8 bits of mantissa). For inference, casting the
weights themselves (``model.to(torch.bfloat16)``) skips the per-call casts of every weight and is
faster still on CPU; ``benchmarks/precision.py`` measures both.
"""

from __future__ import annotations

import contextlib
import functools
import platform
import warnings
from collections.abc import Iterator

import torch

__all__ = ["PRECISIONS", "BF16_FLAGS", "cpu_flags", "bf16_flags", "has_bf16_units", "choose_dtype", "autocast"]

PRECISIONS = ("fp32", "bf16", "fp16", "auto")
# /proc/cpuinfo flags of units that multiply bfloat16 natively (AVX512-BF16 dot products, AMX tiles)
BF16_FLAGS = ("avx512_bf16", "amx_bf16")
_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (Linux); empty where there is no such file."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def bf16_flags() -> tuple[str, ...]:
    """Which of :data:`BF16_FLAGS` this CPU has (``()``: none, or not Linux)."""
    flags = cpu_flags()
    return tuple(flag for flag in BF16_FLAGS if flag in flags)


def _cpu_has_bf16() -> bool:
    if platform.system() == "Darwin" and platform.machine() == "arm64":
        return False  # Apple silicon: PyTorch's CPU bf16 matmul is not faster than float32 there (use "mps")
    # oneDNN is what runs bf16 products on x86; it must also see the units (ONEDNN_MAX_CPU_ISA can hide them)
    onednn = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(bf16_flags()) and (onednn is None or bool(onednn()))


def has_bf16_units(device: str | torch.device = "cpu") -> bool:
    """Whether ``device`` computes in bfloat16 natively: CUDA asks torch, a CPU needs AVX512-BF16 or AMX."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return _cpu_has_bf16()
    return False


def choose_dtype(precision: str = "auto", device: str | torch.device = "cpu") -> torch.dtype:
    """The dtype ``precision`` means on ``device``: float32, bfloat16 or float16 (see the module's rules)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    device = torch.device(device)
    if precision == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if has_bf16_units(device) else torch.float16
        return torch.bfloat16 if device.type == "cpu" and has_bf16_units(device) else torch.float32
    if precision == "fp16" and device.type != "cuda":
        raise ValueError(f"precision='fp16' runs on CUDA only, got device {str(device)!r}; use 'bf16' or 'auto'")
    if precision == "bf16" and device.type == "cpu" and not has_bf16_units(device):
        warnings.warn(
            "precision='bf16' on a CPU without AVX512-BF16 or AMX: PyTorch emulates it, slower than float32",
            stacklevel=2,
        )
    return _DTYPES[precision]


@contextlib.contextmanager
def autocast(precision: str = "auto", device: str | torch.device = "cpu") -> Iterator[torch.dtype]:
    """Run the block under ``torch.autocast`` in the chosen dtype (nothing at all for float32); yields the dtype.

    Weights stay float32; matrix products run in bf16 / fp16, softmax, norms and losses in float32.
    """
    dtype = choose_dtype(precision, device)
    device = torch.device(device)
    if dtype == torch.float32:
        yield dtype
        return
    with torch.autocast(device.type, dtype=dtype):
        yield dtype
