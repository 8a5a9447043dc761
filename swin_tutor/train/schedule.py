"""The optimiser's side of training: which weights decay, and the learning-rate schedule (warm-up + cosine)."""

from __future__ import annotations

import math

import torch.nn as nn

__all__ = ["param_groups", "warmup_cosine"]

# No weight decay on these (as in the official Swin code): 1-D tensors (biases, norms) and these names.
_NO_DECAY = ("relative_position_bias_table", "logit_scale", "q_bias", "v_bias")


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """AdamW parameter groups: weight decay on the matrices, none on 1-D tensors and the names in _NO_DECAY."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if p.dim() <= 1 or name.endswith(_NO_DECAY) else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def warmup_cosine(step: int, warmup: int, total: int, min_ratio: float) -> float:
    """Learning-rate factor: linear from 1/warmup to 1 over ``warmup`` steps, then cosine to ``min_ratio``."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
