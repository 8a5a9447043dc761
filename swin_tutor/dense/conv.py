"""The convolution unit every decoder here is built from: Conv2d (no bias), BatchNorm2d, ReLU.

Layout: (B, C_in, H, W) -> (B, C_out, H', W'). Named as in Hugging Face's ``UperNetConvModule``
(``conv``, ``batch_norm``); mmsegmentation's ``ConvModule`` calls the norm ``bn``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn

from swin_tutor.core.validation import check_int

__all__ = ["ConvModule", "init_head"]


class ConvModule(nn.Module):
    """Conv2d (bias-free: the BatchNorm that follows has its own shift), BatchNorm2d, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1, padding: int = 0) -> None:
        super().__init__()
        check_int(in_channels, "in_channels", minimum=1)
        check_int(out_channels, "out_channels", minimum=1)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding, bias=False)
        self.batch_norm = nn.BatchNorm2d(out_channels)
        self.activation = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.batch_norm(self.conv(x)))


def init_head(head: nn.Module, in_channels: Sequence[int], channels: int, num_classes: int) -> None:
    """Check and store what every decoder head is built from: the input widths (one per pyramid level,
    finest first), its own width and the number of classes."""
    head.in_channels = [check_int(c, "in_channels[i]", minimum=1) for c in in_channels]
    if len(head.in_channels) < 1:
        raise ValueError(f"in_channels must list at least one width, got {in_channels!r}")
    head.channels = check_int(channels, "channels", minimum=1)
    head.num_classes = check_int(num_classes, "num_classes", minimum=1)
