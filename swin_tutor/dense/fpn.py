"""The smallest FPN head that segments: laterals, a top-down path, smoothing, a sum, a classifier.

Layout: a list of NCHW maps in, finest first (strides 4, 8, 16, 32); (B, K, H/4, W/4) logits out.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from swin_tutor.dense.conv import ConvModule, init_head
from swin_tutor.dense.upernet import check_features

__all__ = ["FPNHead"]


class FPNHead(nn.Module):
    """A feature pyramid (Lin et al., 2017) with a segmentation classifier, small enough for CPU.

    1. **Laterals**: a 1x1 conv brings every map x_i to ``channels`` wide.
    2. **Top-down path**: from coarse to fine, each level adds the upsampled level above it.
    3. **Smoothing**: one 3x3 conv per level (``fpn_convs``) on the sums.
    4. **Sum and classifier**: every level upsampled to the finest stride and summed, then a 1x1
       conv gives one logit per class.

    The names follow :class:`~swin_tutor.dense.upernet.UperNetHead` (``lateral_convs``,
    ``fpn_convs``, ``classifier``); it is UPerNet without pyramid pooling, with a sum in place of
    the concatenation and its 3x3 fusion conv.
    """

    def __init__(self, in_channels: Sequence[int], channels: int, num_classes: int) -> None:
        super().__init__()
        init_head(self, in_channels, channels, num_classes)
        self.lateral_convs = nn.ModuleList(ConvModule(c, channels, 1) for c in self.in_channels)
        self.fpn_convs = nn.ModuleList(ConvModule(channels, channels, 3, padding=1) for _ in self.in_channels)
        self.classifier = nn.Conv2d(channels, num_classes, 1)

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        """[(B, C_i, H_i, W_i)], finest first -> (B, num_classes, H_0, W_0)."""
        check_features(features, self.in_channels)
        levels = [conv(x) for conv, x in zip(self.lateral_convs, features, strict=True)]  # 1. (B, channels, H_i, W_i)
        for i in range(len(levels) - 1, 0, -1):  # 2. coarse to fine
            levels[i - 1] = levels[i - 1] + _resize(levels[i], levels[i - 1].shape[2:])
        size = levels[0].shape[2:]
        fused = sum(_resize(conv(level), size) for conv, level in zip(self.fpn_convs, levels, strict=True))  # 3-4.
        return self.classifier(fused)  # (B, K, H_0, W_0)


def _resize(x: torch.Tensor, size) -> torch.Tensor:
    """Bilinear resize of (B, C, h, w) to ``size`` (align_corners=False)."""
    if tuple(x.shape[2:]) == tuple(size):
        return x
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False)
