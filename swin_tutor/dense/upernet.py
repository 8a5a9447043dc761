"""UPerNet's decode head (Xiao et al., 2018), the decoder of the Swin paper's ADE20K results.

Layout: a list of NCHW maps in, finest first, e.g. strides 4, 8, 16, 32 with widths C, 2C, 4C, 8C;
(B, K, H/4, W/4) class logits out (the stride of the finest map).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from swin_tutor.core.validation import check_int
from swin_tutor.dense.conv import ConvModule, init_head

__all__ = ["UperNetHead", "convert_upernet_state_dict", "check_features"]


def check_features(features: Sequence[torch.Tensor], in_channels: Sequence[int]) -> None:
    """Each feature map must be (B, C_i, H_i, W_i) with the widths the head was built for."""
    if not isinstance(features, (list, tuple)) or len(features) != len(in_channels):
        got = f"{len(features)} maps" if isinstance(features, (list, tuple)) else type(features).__name__
        raise ValueError(f"features must be a list of {len(in_channels)} NCHW maps (one per in_channels), got {got}")
    for i, (f, c) in enumerate(zip(features, in_channels, strict=True)):
        if not isinstance(f, torch.Tensor) or f.dim() != 4 or f.shape[1] != c:
            shape = tuple(f.shape) if isinstance(f, torch.Tensor) else type(f).__name__
            hint = " (channels-last? permute(0, 3, 1, 2) first)" if f.dim() == 4 and f.shape[-1] == c else ""
            raise ValueError(f"features[{i}] must be (B, {c}, H, W), got {shape}{hint}")


class UperNetHead(nn.Module):
    """UPerNet's decode head: pyramid pooling on the coarsest map, an FPN top-down path, fusion, classifier.

    The four steps of :meth:`forward`, for maps x_0 (stride 4) .. x_3 (stride 32):

    1. **Pyramid pooling** (PSPNet's module) on x_3: average-pool it to 1x1, 2x2, 3x3 and 6x6 grids,
       project each to ``channels`` (1x1 conv), upsample back, concatenate with x_3 and mix (3x3
       ``bottleneck``). The coarsest map now sees the whole image at several scales.
    2. **Laterals**: a 1x1 conv brings each finer map x_0..x_2 to ``channels`` wide.
    3. **Top-down path** (FPN): from coarse to fine, add the upsampled coarser map to the next finer
       one, so that fine maps get the context of the coarse ones; then a 3x3 conv per level
       (``fpn_convs``) smooths the sums.
    4. **Fusion and classifier**: upsample every level to stride 4, concatenate (4 x ``channels``),
       mix with a 3x3 conv (``fpn_bottleneck``), and a 1x1 conv gives one logit per class.

    Every conv but the classifier is Conv2d + BatchNorm2d + ReLU (:class:`ConvModule`); upsampling
    is bilinear with ``align_corners=False``. Parameter names are Hugging Face's, so its
    ``decode_head`` state dict loads as it is; :func:`convert_upernet_state_dict` renames
    mmsegmentation's:

    ================================  ===========================  ===========================
    here (= Hugging Face)             mmsegmentation ``UPerHead``  step
    ================================  ===========================  ===========================
    ``psp_modules.{s}.1.conv``        ``psp_modules.{s}.1.conv``   1. pooled grid s, 1x1 conv
    ``psp_modules.{s}.1.batch_norm``  ``psp_modules.{s}.1.bn``     1. its BatchNorm
    ``bottleneck.*``                  ``bottleneck.*``             1. mix pooled + x_3, 3x3
    ``lateral_convs.{i}.*``           ``lateral_convs.{i}.*``      2. x_i to ``channels``, 1x1
    ``fpn_convs.{i}.*``               ``fpn_convs.{i}.*``          3. smooth level i, 3x3
    ``fpn_bottleneck.*``              ``fpn_bottleneck.*``         4. fuse the levels, 3x3
    ``classifier``                    ``conv_seg``                 4. logits, 1x1
    ================================  ===========================  ===========================

    (``*.batch_norm`` here and in Hugging Face is ``*.bn`` in mmsegmentation. mmsegmentation also
    applies ``Dropout2d(0.1)`` before ``conv_seg`` in training; Hugging Face and this head do not.)
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        channels: int = 512,
        *,
        num_classes: int,
        pool_scales: Sequence[int] = (1, 2, 3, 6),
    ) -> None:
        super().__init__()
        init_head(self, in_channels, channels, num_classes)
        self.pool_scales = tuple(check_int(s, "pool_scales[i]", minimum=1) for s in pool_scales)
        top = self.in_channels[-1]
        # 1. pyramid pooling: one (pool to s x s, 1x1 conv) branch per scale, then the 3x3 bottleneck
        self.psp_modules = nn.ModuleList(
            nn.Sequential(nn.AdaptiveAvgPool2d(s), ConvModule(top, channels, 1)) for s in self.pool_scales
        )
        self.bottleneck = ConvModule(top + len(self.pool_scales) * channels, channels, 3, padding=1)
        # 2-3. laterals and smoothing convs for every level but the coarsest (that one is step 1's output)
        self.lateral_convs = nn.ModuleList(ConvModule(c, channels, 1) for c in self.in_channels[:-1])
        self.fpn_convs = nn.ModuleList(ConvModule(channels, channels, 3, padding=1) for _ in self.in_channels[:-1])
        # 4. fusion of all levels, then the classifier
        self.fpn_bottleneck = ConvModule(len(self.in_channels) * channels, channels, 3, padding=1)
        self.classifier = nn.Conv2d(channels, num_classes, 1)

    def pyramid_pooling(self, x: torch.Tensor) -> torch.Tensor:
        """Step 1: (B, C_top, h, w) -> (B, channels, h, w), the coarsest map with pooled context."""
        pooled = [_upsample(branch(x), x.shape[2:]) for branch in self.psp_modules]  # each (B, channels, h, w)
        return self.bottleneck(torch.cat([x, *pooled], dim=1))

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        """[(B, C_i, H_i, W_i)], finest first -> (B, num_classes, H_0, W_0)."""
        check_features(features, self.in_channels)
        # 1-2. the coarsest level from pyramid pooling, the others through their lateral 1x1 conv
        levels = [conv(x) for conv, x in zip(self.lateral_convs, features[:-1], strict=True)]
        levels.append(self.pyramid_pooling(features[-1]))  # all (B, channels, H_i, W_i)
        # 3. top-down: coarse to fine, each level gets the upsampled sum of the levels above it
        for i in range(len(levels) - 1, 0, -1):
            levels[i - 1] = levels[i - 1] + _upsample(levels[i], levels[i - 1].shape[2:])
        smoothed = [conv(level) for conv, level in zip(self.fpn_convs, levels[:-1], strict=True)] + [levels[-1]]
        # 4. fusion at the finest stride, then the classifier
        size = smoothed[0].shape[2:]
        fused = self.fpn_bottleneck(torch.cat([_upsample(s, size) for s in smoothed], dim=1))
        return self.classifier(fused)  # (B, K, H_0, W_0)


def _upsample(x: torch.Tensor, size) -> torch.Tensor:
    """Bilinear resize of (B, C, h, w) to ``size`` (align_corners=False, as Hugging Face and mmseg)."""
    if tuple(x.shape[2:]) == tuple(size):
        return x
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False)


def convert_upernet_state_dict(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A UPerNet decode head's weights, Hugging Face or mmsegmentation names -> :class:`UperNetHead`'s.

    The ``decode_head.`` prefix is removed; mmsegmentation's ``.bn.`` becomes ``.batch_norm.`` and
    ``conv_seg`` becomes ``classifier``. Other keys (backbone, auxiliary head) are left out.
    """
    out = {}
    for key, value in state_dict.items():
        if key.startswith(("backbone.", "auxiliary_head.")):
            continue
        key = re.sub(r"^decode_head\.", "", key)
        key = re.sub(r"\.bn\.", ".batch_norm.", key)
        key = re.sub(r"^conv_seg\.", "classifier.", key)
        out[key] = value
    return out
