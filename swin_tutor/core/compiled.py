"""``torch.compile`` of a Swin, as an explicit opt-in (never applied by the package itself).

Eager PyTorch runs every LayerNorm, GELU, softmax, bias add and window gather as its own kernel,
each reading and writing the whole map; the compiler (inductor) fuses those between the matrix
products. What it costs: a compile on the first call of each input size (tens of seconds to minutes
on a laptop CPU; ``benchmarks/floor.py --compile`` measures both), a C++ compiler on the machine,
and tracebacks that point into generated code. The notebooks teach the eager model.

Run a compiled model under ``torch.no_grad()``; ``torch.inference_mode()`` fails when the blocks build
their per-size buffers inside the compiled graph.
"""

from __future__ import annotations

import torch
import torch.nn as nn

__all__ = ["compile_model"]


def compile_model(model: nn.Module, **options) -> nn.Module:
    """``torch.compile(model, **options)`` for a swin_tutor model: the same weights (shared, not
    copied), the same outputs to float32 rounding, faster after the first call of each input size."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return torch.compile(model, **options)
