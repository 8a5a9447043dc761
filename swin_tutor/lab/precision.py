"""Numerics of bf16 and fp16 against float32: logits, predictions, masks, and dot-product vs cosine attention.

Float formats (sign, exponent, mantissa bits): float32 (1, 8, 23), bfloat16 (1, 8, 7: float32's range,
about 3 significant digits), float16 (1, 5, 10: about 3.3 digits, but nothing above 65504 and no
normal number below 6.1e-5). What that does to a Swin:

- :func:`logit_error`: a whole model's logits in low precision against float32 (autocast, or the
  weights themselves cast);
- :func:`prediction_agreement`: how often the low-precision model predicts the same class;
- :func:`mask_in_dtype`: the shifted-window mask (-100 officially, -1e4 here) and the weight softmax
  gives a blocked pair, in each dtype (e^-100 is a float32 *subnormal*; float16 has no room for -1e5);
- :func:`attention_at_scale`: the Swin V2 paper's stability argument at laptop size: as activations
  grow, dot-product logits grow with their square (float16 overflows, bf16's absolute error grows),
  while cosine logits stay within the learned scale (at most 100).
"""

from __future__ import annotations

import contextlib
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["DTYPES", "low_precision", "logit_error", "prediction_agreement", "mask_in_dtype", "attention_at_scale"]

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def _dtype(name: str) -> torch.dtype:
    if name not in DTYPES:
        raise ValueError(f"dtype must be one of {tuple(DTYPES)}, got {name!r}")
    return DTYPES[name]


def low_precision(model: nn.Module, dtype: str, how: str = "autocast"):
    """``(forward, context)`` that run ``model`` in ``dtype`` on CPU: ``how="autocast"`` keeps float32
    weights under ``torch.autocast``; ``how="weights"`` runs a copy whose weights are cast (input cast too).
    The forward returns float32 logits either way."""
    low = _dtype(dtype)
    if how == "autocast":
        context = torch.autocast("cpu", dtype=low) if low != torch.float32 else contextlib.nullcontext()
        return (lambda x: model(x).float()), context
    if how == "weights":
        cast = copy.deepcopy(model).to(low)
        return (lambda x: cast(x.to(low)).float()), contextlib.nullcontext()
    raise ValueError(f"how must be 'autocast' or 'weights', got {how!r}")


@torch.no_grad()
def logit_error(model: nn.Module, x: torch.Tensor, dtype: str, how: str = "autocast") -> dict[str, float]:
    """Logits of ``model(x)`` in ``dtype`` against float32: ``max_abs`` difference, ``relative``
    (``max |difference| / max |float32 logit|``), and ``top1`` (share of inputs with the same argmax)."""
    model.eval()
    reference = model(x).float()  # (B, K)
    forward, context = low_precision(model, dtype, how)
    with context:
        low = forward(x)
    diff = (low - reference).abs().max()
    return {
        "max_abs": float(diff),
        "relative": float(diff / reference.abs().max()),
        "top1": float((low.argmax(1) == reference.argmax(1)).float().mean()),
    }


@torch.no_grad()
def prediction_agreement(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, dtype: str, how: str = "autocast"
) -> dict[str, float]:
    """On a labelled set (images (N, C, H, W), labels (N,)): accuracy in float32 and in ``dtype``, and
    ``agree``, the share of images whose predicted class is the same in both."""
    model.eval()
    forward, context = low_precision(model, dtype, how)
    reference = model(images).argmax(1)
    with context:
        low = forward(images).argmax(1)
    return {
        "fp32_accuracy": float((reference == labels).float().mean()),
        "accuracy": float((low == labels).float().mean()),
        "agree": float((low == reference).float().mean()),
    }


def mask_in_dtype(dtype: str, mask_value: float = -100.0, logit: float = 0.0) -> dict[str, float | bool]:
    """A key row of two logits, ``[logit, logit + mask_value]`` (an allowed and a blocked pair), in ``dtype``:
    the stored mask value, the blocked pair's softmax weight (computed in ``dtype``), and whether that
    weight is a subnormal (slow on many CPUs), an exact 0, or NaN (an overflowed mask on a fully masked row)."""
    low = _dtype(dtype)
    stored = torch.tensor(mask_value, dtype=torch.float32).to(low)
    row = torch.tensor([logit], dtype=low) + torch.stack([torch.zeros((), dtype=low), stored])
    weight = F.softmax(row, dim=0)[1]  # CPU softmax of a low dtype accumulates in float32, rounds the result
    blocked = torch.full((2,), float(stored), dtype=low)  # a row where every pair is blocked
    tiny = torch.finfo(low).tiny  # the smallest normal number
    return {
        "stored": float(stored),
        "weight": float(weight),
        "subnormal": bool(0 < float(weight) < tiny),
        "zero": float(weight) == 0.0,
        "all_blocked_nan": bool(F.softmax(blocked, dim=0).isnan().any()),
    }


@torch.no_grad()
def attention_at_scale(scale: float, dtype: str, dim: int = 96, heads: int = 3, tokens: int = 49, seed: int = 0):
    """One window of attention logits and weights at activation size ``scale`` (the input is ``scale`` times
    a unit-variance map), dot product (v1: q k^T / sqrt(d)) and cosine (v2: cos(q, k) * 10, the initial
    scale), each computed in ``dtype`` and compared with float32. Returns, per kind: ``max_logit`` (float32),
    ``nonfinite`` (any inf/NaN weight in ``dtype``), ``weight_error`` (``max |weight difference|``)."""
    low = _dtype(dtype)
    gen = torch.Generator().manual_seed(seed)
    x = scale * torch.randn(tokens, dim, generator=gen)  # (N, C) tokens of one window
    w = torch.randn(3 * dim, dim, generator=gen) / dim**0.5  # a qkv projection that keeps the scale
    head_dim = dim // heads

    def logits(dt: torch.dtype, kind: str) -> torch.Tensor:
        q, k, _ = (x.to(dt) @ w.to(dt).T).view(tokens, 3, heads, head_dim).permute(1, 2, 0, 3)  # (heads, N, d)
        if kind == "dot":
            return (q * head_dim**-0.5) @ k.transpose(-2, -1)
        return (F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)) * 10.0

    out = {}
    for kind in ("dot", "cosine"):
        ref = logits(torch.float32, kind)
        lo = logits(low, kind)
        weights, ref_weights = lo.softmax(-1).float(), ref.softmax(-1)
        finite = bool(torch.isfinite(weights).all())
        out[kind] = {
            "max_logit": float(ref.abs().max()),
            "nonfinite": not finite,
            "weight_error": float((weights - ref_weights).abs().max()) if finite else float("nan"),
        }
    return out
