"""Swin Transformer blocks: (shifted) window attention and an MLP, each in a residual branch.

Layout: blocks take and return token maps (B, H, W, C). The resolution is fixed at construction,
because the official clamp rule and the shifted-window mask depend on it.

Where the LayerNorm sits (``norm_placement``):
- ``"pre"`` (Swin v1):           x = x + f(norm(x))
- ``"post"`` (original Transformer): x = norm(x + f(x))
- ``"res_post"`` (Swin V2):      x = x + norm(f(x))
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn as nn

from .attention import WindowAttention, WindowAttentionV2
from .masks import shifted_window_mask
from .windows import (
    clamp_window_and_shift,
    cyclic_shift,
    pad_to_multiple,
    reverse_cyclic_shift,
    shifted_window_order,
    to_2tuple,
    window_partition,
    window_reverse,
)

__all__ = ["DropPath", "Mlp", "SwinTransformerBlock", "SwinTransformerBlockV2", "NormPlacement"]

NormPlacement = Literal["pre", "post", "res_post"]
_PLACEMENTS = ("pre", "post", "res_post")


class DropPath(nn.Module):
    """Stochastic depth: in training, drop a sample's whole residual branch with probability p."""

    def __init__(self, drop_prob: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= drop_prob < 1.0:
            raise ValueError(f"drop_prob must be in [0, 1), got {drop_prob}")
        self.drop_prob = drop_prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1.0 - self.drop_prob
        shape = (x.shape[0],) + (1,) * (x.dim() - 1)
        return x * x.new_empty(shape).bernoulli_(keep) / keep

    def extra_repr(self) -> str:
        return f"drop_prob={self.drop_prob:.3f}"


class Mlp(nn.Module):
    """fc1 (C -> ratio*C), exact GELU, fc2 (ratio*C -> C), applied to every token on its own.

    Without autograd (inference) the tokens go through in chunks of ``chunk_tokens`` rows: the
    hidden activations are 4x wider than the input, and at batch 8 in stage 0 they are 40-50 MB,
    which the C allocator hands out as fresh pages that the CPU must fault in on every call (measured
    here: a fifth of Swin-T's CPU time at batch 8). A chunk's hidden block stays small and is reused.
    The tokens are independent, so the numbers are those of the one-shot path (used when training).
    """

    def __init__(self, dim: int, hidden_dim: int, drop: float = 0.0, chunk_tokens: int = 4096) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dim, dim)
        self.drop = nn.Dropout(drop)
        self.chunk_tokens = chunk_tokens

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., C) -> (..., C)."""
        if torch.is_grad_enabled() or x.numel() <= self.chunk_tokens * x.shape[-1]:
            return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))
        tokens = x.reshape(-1, x.shape[-1])  # (T, C)
        out = tokens.new_empty(tokens.shape[0], self.fc2.out_features)
        for start in range(0, tokens.shape[0], self.chunk_tokens):
            rows = slice(start, start + self.chunk_tokens)
            hidden = self.drop(self.act(self.fc1(tokens[rows])))  # (chunk, hidden_dim)
            out[rows] = self.fc2(hidden)
        return self.drop(out).view(*x.shape[:-1], -1)


class SwinTransformerBlock(nn.Module):
    """One Swin v1 block: W-MSA (shift 0) or SW-MSA (shift > 0), then the MLP, pre-norm by default.

    The official clamp rule is applied here: when ``min(H, W) <= window_size`` the window shrinks to
    the map and the block does not shift. Maps the window does not divide are zero-padded at the
    bottom and right for attention (as timm and Hugging Face do) and cropped back afterwards.
    """

    default_norm_placement: NormPlacement = "pre"

    def __init__(
        self,
        dim: int,
        input_resolution: tuple[int, int],
        num_heads: int,
        window_size: int = 7,
        shift_size: int = 0,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop: float = 0.0,
        attn_drop: float = 0.0,
        drop_path: float = 0.0,
        norm_placement: NormPlacement | None = None,
        pretrained_window_size: int = 0,
    ) -> None:
        super().__init__()
        self.dim = dim
        self.input_resolution = to_2tuple(input_resolution, "input_resolution")
        self.num_heads = num_heads
        self.mlp_ratio = mlp_ratio
        self.requested_window_size, self.requested_shift_size = window_size, shift_size
        # Decided once (the clamp rule); read-only, since the mask and token order are built from them.
        self._window_size, self._shift_size = clamp_window_and_shift(self.input_resolution, window_size, shift_size)
        self.norm_placement = norm_placement or self.default_norm_placement
        if self.norm_placement not in _PLACEMENTS:
            raise ValueError(f"norm_placement must be one of {_PLACEMENTS}, got {self.norm_placement!r}")

        self.norm1 = nn.LayerNorm(dim)
        self.attn = self._make_attention(dim, num_heads, qkv_bias, attn_drop, drop, pretrained_window_size)
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop)

        h, w = self.input_resolution
        ws = self.window_size
        self.padded_resolution = (h + (-h) % ws, w + (-w) % ws)
        mask = None
        if self.shift_size > 0:
            mask = shifted_window_mask(*self.padded_resolution, ws, self.shift_size)
        self.register_buffer("attn_mask", mask, persistent=False)
        # Shift + partition (and their inverses) as one precomputed gather: see window_attention.
        order, inverse = shifted_window_order(*self.padded_resolution, ws, self.shift_size)
        self.register_buffer("token_order", order, persistent=False)
        self.register_buffer("token_order_inverse", inverse, persistent=False)

    @property
    def window_size(self) -> int:
        """The window after the clamp rule (read-only: build a new block to change it)."""
        return self._window_size

    @property
    def shift_size(self) -> int:
        """The shift after the clamp rule (read-only: the mask and token order were built for it)."""
        return self._shift_size

    def _make_attention(self, dim, num_heads, qkv_bias, attn_drop, proj_drop, pretrained_window_size) -> nn.Module:
        return WindowAttention(dim, self.window_size, num_heads, qkv_bias, attn_drop, proj_drop)

    def window_attention(self, x: torch.Tensor) -> torch.Tensor:
        """The attention branch on a (B, H, W, C) map: pad, shift, partition, attend, and undo all three.

        Step by step this is ``pad_to_multiple``, ``cyclic_shift``, ``window_partition``, attention,
        ``window_reverse``, ``reverse_cyclic_shift`` and a crop (see ``window_attention_steps``). The
        shift and the partition only move tokens, so here they run as one precomputed gather
        (``token_order``, from ``shifted_window_order``): the same numbers, a third of the copying.
        """
        b, h, w, c = x.shape
        ws = self.window_size
        x = pad_to_multiple(x, ws)
        hp, wp = x.shape[1:3]
        windows = x.reshape(b, hp * wp, c).index_select(1, self.token_order).view(-1, ws * ws, c)  # (B*nW, N, C)
        windows = self.attn(windows, self.attn_mask)
        x = windows.reshape(b, hp * wp, c).index_select(1, self.token_order_inverse).view(b, hp, wp, c)
        if hp != h or wp != w:
            x = x[:, :h, :w, :].contiguous()
        return x

    def window_attention_steps(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`window_attention` written out one step at a time (slower; for reading and for tests)."""
        b, h, w, c = x.shape
        ws, s = self.window_size, self.shift_size
        x = pad_to_multiple(x, ws)
        hp, wp = x.shape[1:3]
        x = cyclic_shift(x, s)
        windows = window_partition(x, ws).reshape(-1, ws * ws, c)  # (B*nW, N, C)
        windows = self.attn(windows, self.attn_mask)
        x = window_reverse(windows.view(-1, ws, ws, c), ws, hp, wp)
        x = reverse_cyclic_shift(x, s)
        return x[:, :h, :w, :].contiguous()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, H, W, C) -> (B, H, W, C)."""
        if x.dim() != 4 or tuple(x.shape[1:3]) != self.input_resolution or x.shape[3] != self.dim:
            h, w = self.input_resolution
            raise ValueError(f"this block was built for maps (B, {h}, {w}, {self.dim}), got {tuple(x.shape)}")
        if self.norm_placement == "pre":
            x = x + self.drop_path(self.window_attention(self.norm1(x)))
            x = x + self.drop_path(self.mlp(self.norm2(x)))
        elif self.norm_placement == "res_post":
            x = x + self.drop_path(self.norm1(self.window_attention(x)))
            x = x + self.drop_path(self.norm2(self.mlp(x)))
        else:  # "post"
            x = self.norm1(x + self.drop_path(self.window_attention(x)))
            x = self.norm2(x + self.drop_path(self.mlp(x)))
        return x

    def extra_repr(self) -> str:
        return (
            f"dim={self.dim}, input_resolution={self.input_resolution}, num_heads={self.num_heads}, "
            f"window_size={self.window_size}, shift_size={self.shift_size}, norm_placement={self.norm_placement!r}"
        )


class SwinTransformerBlockV2(SwinTransformerBlock):
    """One Swin V2 block: scaled cosine attention with a continuous position bias, res-post-norm."""

    default_norm_placement: NormPlacement = "res_post"

    def _make_attention(self, dim, num_heads, qkv_bias, attn_drop, proj_drop, pretrained_window_size) -> nn.Module:
        return WindowAttentionV2(
            dim,
            self.window_size,
            num_heads,
            qkv_bias,
            attn_drop,
            proj_drop,
            pretrained_window_size=pretrained_window_size,
        )

    def init_respostnorm(self) -> None:
        """Zero the post-norms' weight and bias (as the official code does): the block starts as identity."""
        for norm in (self.norm1, self.norm2):
            nn.init.zeros_(norm.weight)
            nn.init.zeros_(norm.bias)
