"""One stage of a Swin Transformer: blocks alternating shift 0 and window // 2, then patch merging.

Layout: (B, H, W, C) maps in; (B, H/2, W/2, 2C) out when the stage merges, else (B, H, W, C).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn as nn
from torch.utils.checkpoint import checkpoint

from swin_tutor.core.blocks import SwinTransformerBlock, WindowRule

__all__ = ["BasicLayer"]


class BasicLayer(nn.Module):
    """One stage: ``depth`` blocks alternating shift 0 and window // 2, then (optionally) merging.

    ``use_checkpoint`` (the official flag): while training, each block's activations are not kept
    for the backward pass but recomputed from its input (``torch.utils.checkpoint``), trading one
    more forward per block for the memory of everything inside it.
    """

    def __init__(
        self,
        make_block: Callable[..., SwinTransformerBlock],
        dim: int,
        input_resolution: tuple[int, int],
        depth: int,
        num_heads: int,
        window_size: int,
        drop_path: Sequence[float],
        downsample: type[nn.Module] | None,
        use_checkpoint: bool = False,
    ) -> None:
        super().__init__()
        self.dim = dim
        self.input_resolution = input_resolution
        self.depth = depth
        self.use_checkpoint = use_checkpoint
        self.blocks = nn.ModuleList(
            make_block(
                dim=dim,
                input_resolution=input_resolution,
                num_heads=num_heads,
                window_size=window_size,
                shift_size=0 if i % 2 == 0 else window_size // 2,
                drop_path=drop_path[i],
            )
            for i in range(depth)
        )
        self.downsample = downsample(dim) if downsample is not None else None

    def forward_blocks(self, x: torch.Tensor, window_rule: WindowRule = "input") -> torch.Tensor:
        """The blocks of the stage, without the merging: (B, H, W, C) -> (B, H, W, C).

        ``window_rule``: what a block does on a map no larger than its window
        (:meth:`SwinTransformerBlock.geometry`); the classifier's own is ``"input"``."""
        for block in self.blocks:
            if self.use_checkpoint and torch.is_grad_enabled():
                # drop path's random draws are replayed in the recomputation (preserve_rng_state)
                x = checkpoint(block, x, window_rule, use_reentrant=False)
            else:
                x = block(x, window_rule)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.forward_blocks(x)
        return self.downsample(x) if self.downsample is not None else x
