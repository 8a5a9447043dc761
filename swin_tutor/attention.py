"""Window attention: multi-head self-attention inside each window, with a relative position bias.

Input and output: (B * nW, N, C) with N = wh * ww tokens per window. The optional mask is the
(nW, N, N) shifted-window mask; windows are ordered batch-outermost, so window k uses mask k % nW.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .position_bias import (
    continuous_position_bias,
    gather_relative_position_bias,
    log_spaced_coords_table,
    make_cpb_mlp,
    relative_position_index,
)
from .windows import to_2tuple

__all__ = ["WindowAttention", "WindowAttentionV2"]

LOGIT_SCALE_MAX_VALUE = 100.0  # the official clamp, exp(min(logit_scale, log 100))
# What a blocked pair's logit gets in the forward pass. The official mask (and our attn_mask buffer)
# holds -100, but softmax turns e^-100 ~ 4e-44 into a float32 *subnormal*, which CPUs multiply an
# order of magnitude slower (measured here: probs @ v 5x slower in a masked window). -1e4 underflows
# to an exact 0 instead, in float32 and in float16 alike; the weights differ by < 1e-43.
MASKED_LOGIT = -1.0e4


def _split_heads(qkv: torch.Tensor, num_heads: int) -> torch.Tensor:
    """(B_, N, 3C) -> (3, B_, heads, N, head_dim), q / k / v first, made contiguous in one copy.

    Without the copy, q, k and v are strided views, and each matmul would make its own copy.
    """
    b, n, c3 = qkv.shape
    return qkv.view(b, n, 3, num_heads, c3 // (3 * num_heads)).permute(2, 0, 3, 1, 4).contiguous()


class _WindowAttentionBase(nn.Module):
    """What v1 and v2 share: shapes, the mask, softmax, value mixing and the output projection."""

    def __init__(
        self, dim: int, window_size: int | tuple[int, int], num_heads: int, attn_drop: float, proj_drop: float
    ):
        super().__init__()
        if num_heads < 1 or dim % num_heads:
            raise ValueError(f"num_heads must divide dim: got dim={dim}, num_heads={num_heads}")
        self.dim = dim
        self.window_size = to_2tuple(window_size, "window_size")
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.register_buffer("relative_position_index", relative_position_index(self.window_size), persistent=False)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    # -- subclasses provide these ------------------------------------------------------------
    def _logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(attention logits without bias (B_, heads, N, N), values (B_, heads, N, head_dim))."""
        raise NotImplementedError

    def _compute_position_bias(self) -> torch.Tensor:
        raise NotImplementedError

    # -- shared ----------------------------------------------------------------------------------
    def position_bias(self) -> torch.Tensor:
        """(heads, N, N): the bias added to every window's logits.

        Recomputed on every call: it is cheap (a gather, or a tiny MLP), and a cache would go stale
        when weights are written behind autograd's back (``p.data.copy_``, EMA updates).
        """
        return self._compute_position_bias()

    def _check_input(self, x: torch.Tensor, mask: torch.Tensor | None) -> None:
        n = self.window_size[0] * self.window_size[1]
        if x.dim() != 3 or x.shape[1] != n or x.shape[2] != self.dim:
            raise ValueError(f"window attention expects (B*nW, {n}, {self.dim}), got {tuple(x.shape)}")
        if mask is not None and (mask.dim() != 3 or mask.shape[1:] != (n, n) or x.shape[0] % mask.shape[0]):
            raise ValueError(
                f"mask must be (nW, {n}, {n}) with nW dividing the {x.shape[0]} windows, got {tuple(mask.shape)}"
            )

    def attention_probs(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """(B_, heads, N, N): the softmax weights (the picture the notebooks draw)."""
        return self._attend(x, mask)[0]

    def _bias_and_mask(self, mask: torch.Tensor) -> torch.Tensor:
        """(nW, heads, N, N): position bias plus mask, so the logits take one addition instead of two.

        Every negative mask entry (the official -100) becomes ``MASKED_LOGIT``: see its comment.
        """
        bias = self.position_bias()
        blocked = torch.where(mask < 0, MASKED_LOGIT, 0.0).to(bias.dtype)
        return bias.unsqueeze(0) + blocked.unsqueeze(1)

    def _attend(self, x: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        self._check_input(x, mask)
        logits, v = self._logits(x)  # (B_, heads, N, N)
        if mask is None:
            logits = logits + self.position_bias().unsqueeze(0)
        else:
            n_windows, n = mask.shape[0], x.shape[1]
            logits = logits.view(-1, n_windows, self.num_heads, n, n) + self._bias_and_mask(mask)
            logits = logits.view(-1, self.num_heads, n, n)
        probs = logits.softmax(dim=-1)
        return probs, v

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """(B * nW, N, C) -> (B * nW, N, C)."""
        probs, v = self._attend(x, mask)
        out = self.attn_drop(probs) @ v  # (B_, heads, N, head_dim)
        out = out.transpose(1, 2).reshape(x.shape)
        return self.proj_drop(self.proj(out))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, window_size={self.window_size}, num_heads={self.num_heads}"


class WindowAttention(_WindowAttentionBase):
    """Swin v1: scaled dot product ``q k^T / sqrt(head_dim)`` plus a learned per-head bias table.

    Parameters (official names): ``qkv`` (one Linear, with bias), ``relative_position_bias_table``
    ((2wh-1)(2ww-1), heads), ``proj``; buffer ``relative_position_index`` (N, N).
    """

    def __init__(
        self,
        dim: int,
        window_size: int | tuple[int, int],
        num_heads: int,
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ):
        super().__init__(dim, window_size, num_heads, attn_drop, proj_drop)
        wh, ww = self.window_size
        self.scale = self.head_dim**-0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * wh - 1) * (2 * ww - 1), num_heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)

    def _compute_position_bias(self) -> torch.Tensor:
        return gather_relative_position_bias(self.relative_position_bias_table, self.relative_position_index)

    def _logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        q, k, v = _split_heads(self.qkv(x), self.num_heads).unbind(0)  # each (B_, heads, N, head_dim)
        return (q * self.scale) @ k.transpose(-2, -1), v


class WindowAttentionV2(_WindowAttentionBase):
    """Swin V2: scaled cosine attention plus a continuous position bias from a small MLP.

    logits = cos(q, k) * exp(min(logit_scale, log 100)) + 16 * sigmoid(cpb_mlp(log-spaced offsets)).
    Parameters (official names): ``qkv`` (weight only), ``q_bias``, ``v_bias`` (k has no bias),
    ``logit_scale`` (heads, 1, 1) starting at log 10, ``cpb_mlp.{0,2}``, ``proj``; buffers
    ``relative_coords_table`` (1, 2wh-1, 2ww-1, 2) and ``relative_position_index``.
    """

    def __init__(
        self,
        dim: int,
        window_size: int | tuple[int, int],
        num_heads: int,
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
        pretrained_window_size: int | tuple[int, int] = 0,
    ):
        super().__init__(dim, window_size, num_heads, attn_drop, proj_drop)
        self.pretrained_window_size = to_2tuple(pretrained_window_size, "pretrained_window_size")
        self.logit_scale = nn.Parameter(torch.log(10 * torch.ones(num_heads, 1, 1)))
        self.cpb_mlp = make_cpb_mlp(num_heads)
        table = log_spaced_coords_table(self.window_size, self.pretrained_window_size).unsqueeze(0)
        self.register_buffer("relative_coords_table", table, persistent=False)
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        if qkv_bias:
            self.q_bias = nn.Parameter(torch.zeros(dim))
            self.v_bias = nn.Parameter(torch.zeros(dim))
        else:
            self.q_bias = None
            self.v_bias = None

    def _compute_position_bias(self) -> torch.Tensor:
        return continuous_position_bias(self.cpb_mlp, self.relative_coords_table, self.relative_position_index)

    def logit_scale_value(self) -> torch.Tensor:
        """(heads, 1, 1): the multiplier of the cosine, ``exp(min(logit_scale, log 100))``, at most 100.

        Clamped after the exponential, which is the same function but gives exactly 100 for a
        clamped head (exp of float32(log 100) would be 100.0000076).
        """
        return self.logit_scale.exp().clamp(max=LOGIT_SCALE_MAX_VALUE)

    def _logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        bias = None
        if self.q_bias is not None:
            bias = torch.cat([self.q_bias, torch.zeros_like(self.q_bias), self.v_bias])
        q, k, v = _split_heads(F.linear(x, self.qkv.weight, bias), self.num_heads).unbind(0)
        cos = F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)
        return cos * self.logit_scale_value(), v
