"""A segmenter: a backbone's feature pyramid, a decode head, and logits upsampled to the image size.

Layout: (B, C_in, H, W) images in; (B, K, H, W) per-pixel class logits out.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from swin_tutor.core.backbone import SwinBackbone

__all__ = ["Segmenter"]


class Segmenter(nn.Module):
    """``backbone`` (maps at strides 4..32) -> ``head`` (logits at stride 4) -> bilinear upsampling
    to the input size (``align_corners=False``, as Hugging Face's ``UperNetForSemanticSegmentation``).

    The head must take the backbone's list of NCHW maps, e.g.
    ``UperNetHead(backbone.channels, num_classes=K)`` or ``FPNHead(backbone.channels, 32, K)``.
    """

    def __init__(self, backbone: SwinBackbone, head: nn.Module) -> None:
        super().__init__()
        if not isinstance(backbone, nn.Module) or not hasattr(backbone, "channels"):
            raise TypeError(f"backbone must be a SwinBackbone (with .channels), got {type(backbone).__name__}")
        head_channels = getattr(head, "in_channels", None)
        if head_channels is not None and list(head_channels) != list(backbone.channels):
            raise ValueError(
                f"head.in_channels {list(head_channels)} must equal backbone.channels {list(backbone.channels)}"
            )
        self.backbone = backbone
        self.head = head

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """(B, C_in, H, W) -> (B, K, H, W)."""
        logits = self.head(self.backbone(image))  # (B, K, H/4, W/4)
        return F.interpolate(logits, size=image.shape[2:], mode="bilinear", align_corners=False)
