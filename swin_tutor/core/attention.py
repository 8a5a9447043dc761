"""Window attention: multi-head self-attention inside each window, with a relative position bias.

Input and output: (B * nW, N, C) with N = wh * ww tokens per window. The optional mask is the
(nW, N, N) shifted-window mask; windows are ordered batch-outermost, so window k uses mask k % nW.

The forward pass is written once (:class:`WindowAttention`): qkv -> logits -> + position bias and
mask -> softmax -> values. v1 takes a scaled dot product and a learned bias table; v2
(:class:`WindowAttentionV2`, a subclass) a scaled cosine and a bias from a small MLP of log-spaced offsets.

A block may run a smaller window than the one the module was built for (the clamp rule, on a map
no larger than the window): pass it as ``window_size`` and the bias is taken for that window (v1:
the central part of the table; v2: the MLP evaluated on that window's offsets).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from swin_tutor.core.cache import SizeCache
from swin_tutor.core.position_bias import (
    continuous_position_bias,
    gather_relative_position_bias,
    log_spaced_coords_table,
    make_cpb_mlp,
    relative_position_index,
)
from swin_tutor.core.validation import check_int, check_rate, positive_pair

__all__ = ["WindowAttention", "WindowAttentionV2", "LOGIT_SCALE_MAX_VALUE", "MASKED_LOGIT"]

LOGIT_SCALE_MAX_VALUE = 100.0  # the official clamp, exp(min(logit_scale, log 100))
# What a blocked pair's logit gets in the forward pass. The official mask (and our attn_mask buffer)
# holds -100, but softmax turns e^-100 ~ 4e-44 into a float32 *subnormal*, which CPUs multiply an
# order of magnitude slower (measured here: probs @ v 5x slower in a masked window). -1e4 underflows
# to an exact 0 instead, in float32 and in float16 alike; the weights differ by < 1e-43.
MASKED_LOGIT = -1.0e4


# -- steps both versions share --------------------------------------------------------------------
def split_heads(qkv: torch.Tensor, num_heads: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(B_, N, 3C)`` -> q, k, v, each ``(B_, heads, N, head_dim)``, made contiguous in one copy.

    Without the copy, q, k and v are strided views, and each matmul would make its own copy.
    """
    b, n, c3 = qkv.shape
    return qkv.view(b, n, 3, num_heads, c3 // (3 * num_heads)).permute(2, 0, 3, 1, 4).contiguous().unbind(0)


def add_bias_and_mask(logits: torch.Tensor, bias: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """logits ``(B_, heads, N, N)`` + bias (heads, N, N) + mask (nW, N, N), window k taking mask k % nW.

    Bias and mask are summed first (nW, heads, N, N), so the logits take one addition, not two.
    Every negative mask entry (the official -100) becomes ``MASKED_LOGIT``: see its comment.
    """
    if mask is None:
        return logits + bias.unsqueeze(0)
    n_windows, heads, n = mask.shape[0], logits.shape[1], logits.shape[-1]
    blocked = torch.where(mask < 0, MASKED_LOGIT, 0.0).to(bias.dtype)
    logits = logits.view(-1, n_windows, heads, n, n) + (bias.unsqueeze(0) + blocked.unsqueeze(1))
    return logits.view(-1, heads, n, n)


def _check_windows(module: nn.Module, x: torch.Tensor, mask: torch.Tensor | None, window: tuple[int, int]) -> None:
    n = window[0] * window[1]
    if x.dim() != 3 or x.shape[1] != n or x.shape[2] != module.dim:
        raise ValueError(f"window attention expects (B*nW, {n}, {module.dim}), got {tuple(x.shape)}")
    if mask is not None and (mask.dim() != 3 or mask.shape[1:] != (n, n) or x.shape[0] % mask.shape[0]):
        raise ValueError(
            f"mask must be (nW, {n}, {n}) with nW dividing the {x.shape[0]} windows, got {tuple(mask.shape)}"
        )


def _check_heads(dim: int, num_heads: int) -> None:
    check_int(dim, "dim", minimum=1)
    check_int(num_heads, "num_heads", minimum=1)
    if dim % num_heads:
        raise ValueError(f"num_heads must divide dim: got dim={dim}, num_heads={num_heads}")


def _window(module: nn.Module, window_size: int | tuple[int, int] | None) -> tuple[int, int]:
    """The window to run (the built one by default); never larger than the built one."""
    if window_size is None:
        return module.window_size
    wh, ww = positive_pair(window_size, "window_size")
    if wh > module.window_size[0] or ww > module.window_size[1]:
        raise ValueError(f"window_size {(wh, ww)} is larger than the window {module.window_size} this was built for")
    return wh, ww


# -- Swin v1 ----------------------------------------------------------------------------------------
class WindowAttention(nn.Module):
    """Swin v1: scaled dot product ``q k^T / sqrt(head_dim)`` plus a learned per-head bias table.

    Parameters (official names): ``qkv`` (one Linear, with bias), ``relative_position_bias_table``
    ((2wh-1)(2ww-1), heads), ``proj``; buffer ``relative_position_index`` (N, N).
    The forward pass is written once, here: qkv -> logits -> + position bias and mask -> softmax ->
    weighted values -> proj. :class:`WindowAttentionV2` overrides the three steps that differ:
    its parameters (``_init_version_params``), ``_qkv``, ``_logits`` and ``position_bias``.
    """

    version = 1

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
        super().__init__()
        _check_heads(dim, num_heads)
        self.dim, self.num_heads, self.head_dim = dim, num_heads, dim // num_heads
        self.window_size = positive_pair(window_size, "window_size")
        self.pretrained_window_size = positive_pair(pretrained_window_size, "pretrained_window_size", minimum=0)
        if self.version == 1 and any(self.pretrained_window_size):
            raise ValueError("pretrained_window_size is a Swin V2 setting (use WindowAttentionV2)")
        self.scale = self.head_dim**-0.5
        # (Registration order kept from the first version: seeded models get the same random weights.)
        self.register_buffer("relative_position_index", relative_position_index(self.window_size), persistent=False)
        self.attn_drop = nn.Dropout(check_rate(attn_drop, "attn_drop"))
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(check_rate(proj_drop, "proj_drop"))
        self._init_version_params(qkv_bias)

    def _init_version_params(self, qkv_bias: bool) -> None:
        wh, ww = self.window_size
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * wh - 1) * (2 * ww - 1), self.num_heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        self.qkv = nn.Linear(self.dim, self.dim * 3, bias=qkv_bias)
        self._bias_cache: SizeCache = SizeCache()

    def position_bias(self, window_size: int | tuple[int, int] | None = None) -> torch.Tensor:
        """(heads, N, N): the table looked up for every (query, key) pair of the window."""
        window = _window(self, window_size)
        index = self.relative_position_index
        if window != self.window_size:  # a clamped window reads the central part of the table
            device = index.device
            key = (window, device)
            index = self._bias_cache.get(key, lambda: relative_position_index(window, self.window_size).to(device))
        return gather_relative_position_bias(self.relative_position_bias_table, index)

    def _qkv(self, x: torch.Tensor) -> torch.Tensor:
        return self.qkv(x)

    def _logits(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        return (q * self.scale) @ k.transpose(-2, -1)  # (B_, heads, N, N)

    def attend(self, x: torch.Tensor, mask: torch.Tensor | None = None, window_size=None):
        """``(B_, N, C)`` -> softmax weights ``(B_, heads, N, N)`` and values ``(B_, heads, N, head_dim)``."""
        window = _window(self, window_size)
        _check_windows(self, x, mask, window)
        q, k, v = split_heads(self._qkv(x), self.num_heads)
        logits = add_bias_and_mask(self._logits(q, k), self.position_bias(window), mask)
        return logits.softmax(dim=-1), v

    def attention_probs(self, x: torch.Tensor, mask: torch.Tensor | None = None, window_size=None) -> torch.Tensor:
        """``(B_, heads, N, N)``: the softmax weights (the picture the notebooks draw)."""
        return self.attend(x, mask, window_size)[0]

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, window_size=None) -> torch.Tensor:
        """(B * nW, N, C) -> (B * nW, N, C)."""
        probs, v = self.attend(x, mask, window_size)
        out = (self.attn_drop(probs) @ v).transpose(1, 2).reshape(x.shape)  # heads side by side again
        return self.proj_drop(self.proj(out))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, window_size={self.window_size}, num_heads={self.num_heads}"


# -- Swin V2 ----------------------------------------------------------------------------------------
class WindowAttentionV2(WindowAttention):
    """Swin V2: scaled cosine attention plus a continuous position bias from a small MLP.

    logits = cos(q, k) * exp(min(logit_scale, log 100)) + 16 * sigmoid(cpb_mlp(log-spaced offsets)).
    Parameters (official names): ``qkv`` (weight only), ``q_bias``, ``v_bias`` (k has no bias),
    ``logit_scale`` (heads, 1, 1) starting at log 10, ``cpb_mlp.{0,2}``, ``proj``; buffers
    ``relative_coords_table`` (1, 2wh-1, 2ww-1, 2) and ``relative_position_index``.
    """

    version = 2

    def _init_version_params(self, qkv_bias: bool) -> None:
        self.logit_scale = nn.Parameter(torch.log(10 * torch.ones(self.num_heads, 1, 1)))
        self.cpb_mlp = make_cpb_mlp(self.num_heads)
        table = log_spaced_coords_table(self.window_size, self.pretrained_window_size).unsqueeze(0)
        self.register_buffer("relative_coords_table", table, persistent=False)
        self.qkv = nn.Linear(self.dim, self.dim * 3, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(self.dim)) if qkv_bias else None
        self.v_bias = nn.Parameter(torch.zeros(self.dim)) if qkv_bias else None
        self._bias_cache: SizeCache = SizeCache()

    def position_bias(self, window_size: int | tuple[int, int] | None = None) -> torch.Tensor:
        """(heads, N, N): ``16 * sigmoid(cpb_mlp(offsets))`` looked up for every pair of the window."""
        window = _window(self, window_size)
        coords, index = self.relative_coords_table, self.relative_position_index
        if window != self.window_size:  # the same MLP on the offsets of the smaller window
            device, dtype = coords.device, coords.dtype

            def build() -> tuple[torch.Tensor, torch.Tensor]:
                table = log_spaced_coords_table(window, self.pretrained_window_size).unsqueeze(0)
                return table.to(device, dtype), relative_position_index(window).to(device)

            coords, index = self._bias_cache.get((window, device, dtype), build)
        return continuous_position_bias(self.cpb_mlp, coords, index)

    def logit_scale_value(self) -> torch.Tensor:
        """(heads, 1, 1): the multiplier of the cosine, ``exp(min(logit_scale, log 100))``, at most 100.

        Clamped after the exponential, which is the same function but gives exactly 100 for a
        clamped head (exp of float32(log 100) would be 100.0000076).
        """
        return self.logit_scale.exp().clamp(max=LOGIT_SCALE_MAX_VALUE)

    def _qkv(self, x: torch.Tensor) -> torch.Tensor:
        bias = None if self.q_bias is None else torch.cat([self.q_bias, torch.zeros_like(self.q_bias), self.v_bias])
        return F.linear(x, self.qkv.weight, bias)

    def _logits(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        cos = F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)  # (B_, heads, N, N)
        return cos * self.logit_scale_value()
