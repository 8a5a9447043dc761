"""Cost: multiply-adds measured with torch.utils.flop_counter, and the paper's formulas.

The papers count multiply-adds (MACs) and call them FLOPs; torch's counter counts a multiply and an
add as two FLOPs, so MACs = counted FLOPs / 2. Only matrix products and convolutions are counted
(as in the papers' tables); softmax, LayerNorm and GELU are left out.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

__all__ = ["count_macs", "count_parameters", "global_msa_macs", "window_msa_macs"]


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (buffers such as relative_position_index are not parameters)."""
    return sum(p.numel() for p in model.parameters())


def count_macs(model: nn.Module, img_size: int | tuple[int, int] | None = None, batch: int = 1) -> int:
    """Multiply-adds of one forward pass on a (batch, 3, H, W) input (H, W from the model if not given)."""
    if img_size is None:
        img_size = model.img_size
    if isinstance(img_size, int):
        img_size = (img_size, img_size)
    device = next(model.parameters()).device
    x = torch.zeros(batch, getattr(model, "in_chans", 3), *img_size, device=device)
    was_training = model.training
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    model.train(was_training)
    return counter.get_total_flops() // 2


def global_msa_macs(h: int, w: int, c: int) -> int:
    """The paper's cost of global self-attention on an h x w map of C channels: 4hwC^2 + 2(hw)^2 C."""
    return 4 * h * w * c * c + 2 * (h * w) ** 2 * c


def window_msa_macs(h: int, w: int, c: int, m: int) -> int:
    """The paper's cost of window attention (window M x M): 4hwC^2 + 2 M^2 hw C (linear in hw)."""
    return 4 * h * w * c * c + 2 * m * m * h * w * c
