"""Swin Transformer blocks: (shifted) window attention and an MLP, each in a residual branch.

Layout: blocks take and return token maps (B, H, W, C), of any size H, W. What depends on the
size (the official clamp rule, the shifted-window mask, the order of the tokens in the windows) is
worked out once per size (:func:`window_geometry`) and kept; the size the block was built for is
ready from the start, in buffers that move with ``.to(device)``.

Where the LayerNorm sits (``norm_placement``):
- ``"pre"`` (Swin v1):           x = x + f(norm(x))
- ``"post"`` (original Transformer): x = norm(x + f(x))
- ``"res_post"`` (Swin V2):      x = x + norm(f(x))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import torch
import torch.nn as nn

from swin_tutor.core import windows
from swin_tutor.core.attention import WindowAttention, WindowAttentionV2
from swin_tutor.core.cache import SizeCache
from swin_tutor.core.config import NormPlacement, default_norm_placement
from swin_tutor.core.masks import shifted_window_mask
from swin_tutor.core.mlp import DropPath, Mlp
from swin_tutor.core.validation import check_int, check_map, check_number, check_rate, pad_to_multiple, positive_pair

__all__ = [
    "WindowRule",
    "SwinTransformerBlock",
    "SwinTransformerBlockV2",
    "WindowGeometry",
    "window_geometry",
]


# How a block picks its window on a map no larger than it (see SwinTransformerBlock.geometry).
WindowRule = Literal["input", "built", "never"]


@dataclass(frozen=True)
class WindowGeometry:
    """What a block derives from one map size (H, W)."""

    window_size: int  # after the clamp rule
    shift_size: int  # after the clamp rule
    padded_resolution: tuple[int, int]  # H, W rounded up to multiples of the window
    mask: torch.Tensor | None  # (nW, N, N) official mask (0 / -100), None when not shifted
    order: torch.Tensor  # (Hp * Wp,) the token order of cyclic_shift + window_partition
    inverse: torch.Tensor  # (Hp * Wp,) its inverse


def window_geometry(
    height: int,
    width: int,
    window_size: int,
    shift_size: int,
    device: torch.device | str | None = None,
    clamp: bool = True,
) -> WindowGeometry:
    """Apply the clamp rule to an (H, W) map and build the mask and token order for it.

    ``clamp=False`` keeps this window and shift at any size: a map smaller than the window becomes one
    padded window, still shifted (the official detection code and Hugging Face's ``SwinBackbone``).
    """
    ws, s = (
        windows.clamp_window_and_shift((height, width), window_size, shift_size) if clamp else (window_size, shift_size)
    )
    hp, wp = height + (-height) % ws, width + (-width) % ws
    mask = shifted_window_mask(hp, wp, ws, s).to(device) if s > 0 else None
    order, inverse = windows.shifted_window_order(hp, wp, ws, s)
    return WindowGeometry(ws, s, (hp, wp), mask, order.to(device), inverse.to(device))


class SwinTransformerBlock(nn.Module):
    """One Swin v1 block: W-MSA (shift 0) or SW-MSA (shift > 0), then the MLP, pre-norm by default.

    ``input_resolution`` is the map size the block is built (and counted) for; it runs on any size.
    The official clamp rule applies per size: when ``min(H, W) <= window_size`` the window shrinks to
    the map and the block does not shift. Maps the window does not divide are zero-padded at the
    bottom and right for attention (as timm and Hugging Face do) and cropped back afterwards.

    ``use_gather`` chooses how the windows are cut: one precomputed gather of the tokens (fast, the
    default), or ``False``: the steps of notebook 03 one at a time (roll, partition, attend, reverse,
    roll back). Both give the same numbers (tests/test_model_v1.py).
    """

    version = 1
    attention_class: type[WindowAttention] = WindowAttention

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
        use_gather: bool = True,
    ) -> None:
        super().__init__()
        self.dim = check_int(dim, "dim", minimum=1)
        self.input_resolution = positive_pair(input_resolution, "input_resolution")
        self.num_heads = num_heads
        self.mlp_ratio = check_number(mlp_ratio, "mlp_ratio", above=0)
        self.norm_placement = norm_placement or default_norm_placement(self.version)
        if self.norm_placement not in get_args(NormPlacement):
            raise ValueError(f"norm_placement must be one of {get_args(NormPlacement)}, got {self.norm_placement!r}")
        if not isinstance(use_gather, bool):
            raise TypeError(f"use_gather must be True or False, got {use_gather!r}")
        self.use_gather = use_gather
        # What the block was asked for; each map size clamps it on its own (window_geometry).
        self.requested_window_size, self.requested_shift_size = window_size, shift_size
        built = window_geometry(*self.input_resolution, window_size, shift_size)

        self.norm1 = nn.LayerNorm(dim)
        # The attention (and a v1 bias table) is made for the requested window; a clamped window
        # uses its central part, exactly as a block built for the smaller map with these weights.
        self.attn = self.attention_class(dim, window_size, num_heads, qkv_bias, attn_drop, drop, pretrained_window_size)
        self.drop_path = DropPath(check_rate(drop_path, "drop_path"))
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, max(1, int(dim * mlp_ratio)), check_rate(drop, "drop"))

        # The built size, ready in buffers (moved by .to()); other sizes go through the cache.
        self._window_size, self._shift_size = built.window_size, built.shift_size
        self.padded_resolution = built.padded_resolution
        self.register_buffer("attn_mask", built.mask, persistent=False)
        self.register_buffer("token_order", built.order, persistent=False)
        self.register_buffer("token_order_inverse", built.inverse, persistent=False)
        self._geometries: SizeCache[WindowGeometry] = SizeCache(limit=8)

    @property
    def window_size(self) -> int:
        """The window at the built resolution, after the clamp rule (read-only)."""
        return self._window_size

    @property
    def shift_size(self) -> int:
        """The shift at the built resolution, after the clamp rule (read-only)."""
        return self._shift_size

    def geometry(self, height: int, width: int, window_rule: WindowRule = "input") -> WindowGeometry:
        """Window, shift, padding, mask and token order for an (H, W) map (built once per size).

        ``window_rule`` says what happens on a map no larger than the window, where the references
        part ways: ``"input"`` applies the clamp rule to this map (the classifier, timm); ``"built"``
        keeps the clamp decided for ``input_resolution`` (Hugging Face's Swinv2 blocks); ``"never"``
        never clamps (the official detection backbone, Hugging Face's ``SwinBackbone``).
        """
        if window_rule != "input":
            if window_rule == "built":
                window, shift = self.window_size, self.shift_size
            elif window_rule == "never":
                window, shift = self.requested_window_size, self.requested_shift_size
            else:
                raise ValueError(f"window_rule must be one of {get_args(WindowRule)}, got {window_rule!r}")
            device = self.token_order.device
            return self._geometries.get(
                (height, width, device, window, shift, False),
                lambda: window_geometry(height, width, window, shift, device, clamp=False),
            )
        if (height, width) == self.input_resolution:
            return WindowGeometry(
                self.window_size,
                self.shift_size,
                self.padded_resolution,
                self.attn_mask,
                self.token_order,
                self.token_order_inverse,
            )
        device = self.token_order.device
        return self._geometries.get(
            (height, width, device, self.requested_window_size, self.requested_shift_size, True),
            lambda: window_geometry(height, width, self.requested_window_size, self.requested_shift_size, device),
        )

    def window_attention(self, x: torch.Tensor, window_rule: WindowRule = "input") -> torch.Tensor:
        """The attention branch on a (B, H, W, C) map: pad, shift, partition, attend, undo all three."""
        b, h, w, c = x.shape
        g = self.geometry(h, w, window_rule)
        ws, s = g.window_size, g.shift_size
        x = pad_to_multiple(x, ws)  # 1. pad H and W up to multiples of the window
        hp, wp = g.padded_resolution
        if not self.use_gather:  # the steps of notebook 03, one at a time
            x = windows.cyclic_shift(x, s, check=False)  # 2. roll up and left by s
            cut = windows.window_partition(x, ws, check=False).reshape(-1, ws * ws, c)  # 3. (B*nW, N, C)
            cut = self.attn(cut, g.mask, ws)  # 4. attention inside each window
            x = windows.window_reverse(cut.view(-1, ws, ws, c), ws, hp, wp, check=False)  # 5. back into a map
            x = windows.reverse_cyclic_shift(x, s, check=False)  # 6. roll back down and right
        else:  # the same, with steps 2+3 and 5+6 each one precomputed gather (a third of the copying)
            cut = x.reshape(b, hp * wp, c).index_select(1, g.order).view(-1, ws * ws, c)  # 2+3
            cut = self.attn(cut, g.mask, ws)  # 4.
            x = cut.reshape(b, hp * wp, c).index_select(1, g.inverse).view(b, hp, wp, c)  # 5+6
        if (hp, wp) != (h, w):
            x = x[:, :h, :w, :].contiguous()  # 7. crop the padding away
        return x

    def forward(self, x: torch.Tensor, window_rule: WindowRule = "input") -> torch.Tensor:
        """(B, H, W, C) -> (B, H, W, C); ``window_rule``: see :meth:`geometry`."""
        check_map(x, "a Swin block")
        if x.shape[3] != self.dim or min(x.shape[1:3]) < 1:
            raise ValueError(f"this block expects maps (B, H, W, {self.dim}), got {tuple(x.shape)}")
        if self.norm_placement == "pre":
            x = x + self.drop_path(self.window_attention(self.norm1(x), window_rule))
            x = x + self.drop_path(self.mlp(self.norm2(x)))
        elif self.norm_placement == "res_post":
            x = x + self.drop_path(self.norm1(self.window_attention(x, window_rule)))
            x = x + self.drop_path(self.norm2(self.mlp(x)))
        else:  # "post"
            x = self.norm1(x + self.drop_path(self.window_attention(x, window_rule)))
            x = self.norm2(x + self.drop_path(self.mlp(x)))
        return x

    def extra_repr(self) -> str:
        return (
            f"dim={self.dim}, input_resolution={self.input_resolution}, num_heads={self.num_heads}, "
            f"window_size={self.window_size}, shift_size={self.shift_size}, norm_placement={self.norm_placement!r}"
        )


class SwinTransformerBlockV2(SwinTransformerBlock):
    """One Swin V2 block: scaled cosine attention with a continuous position bias, res-post-norm.

    The same block as v1 with :class:`WindowAttentionV2` and the LayerNorms after each branch;
    ``pretrained_window_size`` is the window the weights were trained with (0: none).
    """

    version = 2
    attention_class = WindowAttentionV2

    def init_respostnorm(self) -> None:
        """Zero the post-norms' weight and bias (as the official code does): the block starts as identity."""
        for norm in (self.norm1, self.norm2):
            nn.init.zeros_(norm.weight)
            nn.init.zeros_(norm.bias)
