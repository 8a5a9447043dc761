"""Patches: the patch embedding that turns pixels into tokens, and patch merging between stages.

Layouts: images are (B, 3, H, W); token maps are (B, H, W, C).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from einops import rearrange

from swin_tutor.core.validation import check_image_batch, check_int, pad_to_multiple, positive_pair

__all__ = [
    "PatchEmbed",
    "merge_gather",
    "PatchMerging",
    "PatchMergingV2",
    "PatchMergingUnfold",
    "PatchMergingConv",
    "unfold_to_conv_weight",
    "gather_to_unfold_permutation",
]


class PatchEmbed(nn.Module):
    """Cut the image into p x p patches and project each to C channels: Conv2d(k=p, s=p), then LayerNorm.

    (B, 3, H, W) -> (B, H/p, W/p, C). Sizes p does not divide are zero-padded at the bottom/right.
    """

    def __init__(self, patch_size: int = 4, in_chans: int = 3, embed_dim: int = 96, patch_norm: bool = True):
        super().__init__()
        self.patch_size = positive_pair(patch_size, "patch_size")
        self.in_chans = check_int(in_chans, "in_chans", minimum=1)
        self.embed_dim = check_int(embed_dim, "embed_dim", minimum=1)
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=self.patch_size, stride=self.patch_size)
        self.norm = nn.LayerNorm(embed_dim) if patch_norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image_batch(x, self.in_chans)
        return self.embed(x)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The forward pass without the input checks (the model checked its input already)."""
        x = pad_to_multiple(x, self.patch_size, channels_last=False)  # (B, C, H, W), H and W now multiples of p
        # A channels-last input makes the convolution write (B, H/p, W/p, C) in memory, so the
        # permute below is free instead of a strided copy of the largest map in the model.
        x = self.proj(x.contiguous(memory_format=torch.channels_last)).permute(0, 2, 3, 1)  # (B, H/p, W/p, C)
        return self.norm(x)


def merge_gather(x: torch.Tensor) -> torch.Tensor:
    """The official 2x2 gather: (B, H, W, C) -> (B, H/2, W/2, 4C), odd sizes zero-padded first.

    Channel blocks in order: x0 = (row 0, col 0), x1 = (1, 0), x2 = (0, 1), x3 = (1, 1) of each 2x2.
    """
    if x.dim() != 4:
        raise ValueError(f"patch merging expects (B, H, W, C), got {tuple(x.shape)}")
    x = pad_to_multiple(x, 2)
    x0 = x[:, 0::2, 0::2]
    x1 = x[:, 1::2, 0::2]
    x2 = x[:, 0::2, 1::2]
    x3 = x[:, 1::2, 1::2]
    return torch.cat([x0, x1, x2, x3], dim=-1)


class PatchMerging(nn.Module):
    """Swin v1 merging: 2x2 gather -> LayerNorm(4C) -> Linear(4C -> 2C, no bias). Halves H and W.

    :class:`PatchMergingV2` is the same module with the LayerNorm moved after the reduction.
    """

    version = 1

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = check_int(dim, "dim", minimum=1)
        norm_after = self.version == 2
        if not norm_after:
            self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        if norm_after:
            self.norm = nn.LayerNorm(2 * dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, H, W, C) -> (B, ceil(H/2), ceil(W/2), 2C)."""
        if self.version == 2:
            return self.norm(self.reduction(merge_gather(x)))
        return self.reduction(self.norm(merge_gather(x)))


class PatchMergingV2(PatchMerging):
    """Swin V2 merging: 2x2 gather -> Linear(4C -> 2C, no bias) -> LayerNorm(2C): the norm moves after."""

    version = 2


class PatchMergingUnfold(nn.Module):
    """Merging as many tutorials write it: ``F.unfold`` (k=2, s=2) then a Linear, no LayerNorm.

    Unfold orders the 4C features channel-major: (c, dy, dx) -> c * 4 + dy * 2 + dx.
    """

    def __init__(self, dim: int, out_dim: int | None = None, bias: bool = True) -> None:
        super().__init__()
        self.dim = dim
        self.linear = nn.Linear(4 * dim, out_dim or 2 * dim, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] % 2 or x.shape[2] % 2:
            raise ValueError(f"unfold merging expects (B, H, W, C) with even H and W, got {tuple(x.shape)}")
        h, w = x.shape[1] // 2, x.shape[2] // 2
        cols = F.unfold(x.permute(0, 3, 1, 2), kernel_size=2, stride=2)  # (B, 4C, H/2 * W/2)
        return self.linear(rearrange(cols, "b k (h w) -> b h w k", h=h, w=w))


class PatchMergingConv(nn.Module):
    """Merging as a strided convolution: Conv2d(C, 2C, kernel 2, stride 2). The same map as unfold + linear."""

    def __init__(self, dim: int, out_dim: int | None = None, bias: bool = True) -> None:
        super().__init__()
        self.dim = dim
        self.conv = nn.Conv2d(dim, out_dim or 2 * dim, kernel_size=2, stride=2, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] % 2 or x.shape[2] % 2:
            raise ValueError(f"conv merging expects (B, H, W, C) with even H and W, got {tuple(x.shape)}")
        return self.conv(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


def unfold_to_conv_weight(linear_weight: torch.Tensor, dim: int) -> torch.Tensor:
    """(out, 4C) unfold-linear weight -> (out, C, 2, 2) conv weight: a reshape, nothing else."""
    if linear_weight.shape[1] != 4 * dim:
        raise ValueError(f"expected a weight of shape (out, {4 * dim}), got {tuple(linear_weight.shape)}")
    return linear_weight.reshape(linear_weight.shape[0], dim, 2, 2).clone()


def gather_to_unfold_permutation(dim: int) -> torch.Tensor:
    """Index ``p`` with ``gathered[..., p] == unfolded``: official channel order -> unfold order.

    Official position of (c, dy, dx) is ``(2 * dx + dy) * C + c``; unfold's is ``c * 4 + dy * 2 + dx``.
    """
    c, dy, dx = torch.meshgrid(torch.arange(dim), torch.arange(2), torch.arange(2), indexing="ij")
    return ((2 * dx + dy) * dim + c).flatten()
