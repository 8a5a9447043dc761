"""Small Swin stacks with one mechanism switched on or off, for the experiments of notebook 10.

A ``TokenStack`` is a Swin without stages: patch embedding (B, C_in, H, W) -> (B, H, W, C), a list
of blocks at one resolution, LayerNorm, mean over tokens, linear head. ``build_stack`` makes one from
a ``StackConfig``; every toggle the core blocks lack is a small, named change made here, from the
blocks' public parameters (official names), never by editing the core:

- ``shift="none"``: every block W-MSA;  ``window == size``: global attention (the clamp rule).
- ``position="none"``: the v1 bias table zeroed and frozen (v2: the CPB's output layer zeroed and
  frozen, a constant bias); ``"shared"``: one table for all heads (the "easy" tutorial's design).
- ``cpb_coords="linear"``: v2 CPB on linear instead of log-spaced coordinates.
- ``tau``: v2 logits = cos / tau with one fixed temperature (E-single-tau) instead of a learned scale per head.
- ``forced_shift``: shift even when the map equals the window (E-shift-small-map), masking as the easy code does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import torch
import torch.nn as nn
from torch.nn.utils import parametrize

from swin_tutor.core.attention import WindowAttention, WindowAttentionV2
from swin_tutor.core.blocks import SwinTransformerBlock, SwinTransformerBlockV2
from swin_tutor.core.masks import shifted_window_mask
from swin_tutor.core.model import init_weights
from swin_tutor.core.position_bias import linear_coords_table, resize_relative_position_bias_table
from swin_tutor.core.windows import cyclic_shift, reverse_cyclic_shift

__all__ = [
    "StackConfig", "TokenStack", "build_stack", "with_window", "unshifted", "attention_modules", "ForcedShiftAttention",
]  # fmt: skip


@dataclass(frozen=True)
class StackConfig:
    """Everything that defines a TokenStack (kept on the model as ``model.config``)."""

    size: int = 8  # tokens per side (patch_size 1: pixels per side)
    window: int = 4
    depth: int = 4
    dim: int = 32
    heads: int = 2
    in_chans: int = 3
    num_classes: int = 2
    patch_size: int = 1
    version: int = 1  # 1: dot product + bias table; 2: scaled cosine + CPB
    norm_placement: Literal["pre", "post", "res_post"] | None = None  # None: the version's own
    shift: Literal["alternating", "none"] = "alternating"
    position: Literal["per_head", "shared", "none"] = "per_head"
    cpb_coords: Literal["log", "linear"] = "log"
    pretrained_window: int = 0  # v2: the window the CPB coordinates are scaled for
    tau: float | None = None
    forced_shift: bool = False


class TokenStack(nn.Module):
    """Patch embedding + LayerNorm, ``blocks`` at one resolution, LayerNorm, mean pool, linear head."""

    def __init__(self, config: StackConfig, blocks: list[nn.Module]) -> None:
        super().__init__()
        c = config
        self.config = config
        self.patch_embed = nn.Conv2d(c.in_chans, c.dim, c.patch_size, c.patch_size)
        self.embed_norm = nn.LayerNorm(c.dim)
        self.blocks = nn.ModuleList(blocks)
        self.norm = nn.LayerNorm(c.dim)
        self.head = nn.Linear(c.dim, c.num_classes)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C_in, H, W) images -> (B, H/p, W/p, C) tokens."""
        return self.embed_norm(self.patch_embed(images).permute(0, 2, 3, 1))

    def forward_tokens(self, tokens: torch.Tensor, n_blocks: int | None = None) -> torch.Tensor:
        """(B, H, W, C) through the first ``n_blocks`` blocks (all by default)."""
        for block in list(self.blocks)[:n_blocks]:
            tokens = block(tokens)
        return tokens

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C_in, H, W) -> (B, num_classes)."""
        return self.head(self.norm(self.forward_tokens(self.embed(images))).mean(dim=(1, 2)))


class ForcedShiftAttention(nn.Module):
    """E-shift-small-map: a block whose map equals its window (one window, the clamp rule says: no shift)
    shifted anyway. Wraps the block's attention: roll the map, attend with the shifted-window mask
    (which now blocks most pairs), roll back. Input and output (B, N, C) with N = H * W.
    """

    def __init__(self, attn: nn.Module, resolution: tuple[int, int], shift: int) -> None:
        super().__init__()
        self.inner = attn
        self.resolution, self.shift = resolution, shift
        h, w = resolution
        if h != w:
            raise ValueError(f"ForcedShiftAttention needs a square map equal to the window, got {resolution}")
        self.register_buffer("forced_mask", shifted_window_mask(h, w, h, shift), persistent=False)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, window_size=None) -> torch.Tensor:
        b, n, c = x.shape
        h, w = self.resolution
        if n != h * w:
            raise ValueError(f"ForcedShiftAttention was built for one {h}x{w} window, got {n} tokens per window")
        rolled = cyclic_shift(x.view(b, h, w, c), self.shift).reshape(b, n, c)
        out = self.inner(rolled, self.forced_mask, window_size)
        return reverse_cyclic_shift(out.view(b, h, w, c), self.shift).reshape(b, n, c)


class _SharedAcrossHeads(nn.Module):
    """Parametrization: a (R, 1) table stored, the same column handed to every head: (R, heads)."""

    def __init__(self, heads: int) -> None:
        super().__init__()
        self.heads = heads

    def forward(self, table: torch.Tensor) -> torch.Tensor:
        return table.expand(-1, self.heads)

    def right_inverse(self, table: torch.Tensor) -> torch.Tensor:
        return table.mean(dim=1, keepdim=True)


def attention_modules(model: nn.Module) -> list[nn.Module]:
    """Every v1 / v2 window-attention module of ``model``, in order."""
    return [m for m in model.modules() if isinstance(m, (WindowAttention, WindowAttentionV2))]


def _set_position(attn: nn.Module, c: StackConfig) -> None:
    if c.position == "none":
        if isinstance(attn, WindowAttentionV2):
            last = attn.cpb_mlp[-1].weight  # bias = 16 * sigmoid(0) = 8 for every pair: no information
            last.data.zero_()
            last.requires_grad_(False)
        else:
            attn.relative_position_bias_table.data.zero_()
            attn.relative_position_bias_table.requires_grad_(False)
    elif c.position == "shared":
        if isinstance(attn, WindowAttentionV2):
            raise ValueError("position='shared' is a v1 bias-table variant; got version=2")
        parametrize.register_parametrization(attn, "relative_position_bias_table", _SharedAcrossHeads(attn.num_heads))


def _set_v2_options(attn: nn.Module, c: StackConfig) -> None:
    if c.cpb_coords == "linear":
        table = linear_coords_table(attn.window_size, c.pretrained_window).unsqueeze(0)
        attn.relative_coords_table.copy_(table)  # (1, 2wh-1, 2ww-1, 2)
    if c.tau is not None:
        attn.logit_scale.data.fill_(math.log(1.0 / c.tau))  # one fixed temperature for all heads and blocks
        attn.logit_scale.requires_grad_(False)


def build_stack(config: StackConfig | None = None, seed: int | None = None, **changes) -> TokenStack:
    """A seeded TokenStack for ``config`` (fields overridden by ``changes``)."""
    c = replace(config or StackConfig(), **changes)
    if c.version not in (1, 2) or c.shift not in ("alternating", "none") or c.cpb_coords not in ("log", "linear"):
        raise ValueError(f"version must be 1|2, shift 'alternating'|'none', cpb_coords 'log'|'linear'; got {c}")
    if c.position not in ("per_head", "shared", "none"):
        raise ValueError(f"position must be 'per_head', 'shared' or 'none', got {c.position!r}")
    if c.version == 1 and (c.tau is not None or c.cpb_coords != "log"):
        raise ValueError("tau and cpb_coords are Swin V2 options: use version=2")
    if seed is not None:
        torch.manual_seed(seed)
    block_cls = SwinTransformerBlockV2 if c.version == 2 else SwinTransformerBlock
    resolution = (c.size // c.patch_size,) * 2
    blocks = []
    for i in range(c.depth):
        shift = c.window // 2 if (c.shift == "alternating" and i % 2 == 1) else 0
        kw = {"pretrained_window_size": c.pretrained_window} if c.version == 2 else {}
        block = block_cls(c.dim, resolution, c.heads, c.window, shift, norm_placement=c.norm_placement, **kw)
        blocks.append(block)
    model = TokenStack(c, blocks)
    model.apply(init_weights)
    for i, block in enumerate(model.blocks):
        if isinstance(block, SwinTransformerBlockV2) and block.norm_placement == "res_post":
            block.init_respostnorm()
        # E-shift-small-map: where the clamp rule turned the shifted block into plain global attention.
        if c.forced_shift and c.shift == "alternating" and i % 2 == 1 and c.window >= resolution[0]:
            block.attn = ForcedShiftAttention(block.attn, resolution, c.window // 2)
    with torch.no_grad():
        for attn in attention_modules(model):
            _set_position(attn, c)
            if c.version == 2:
                _set_v2_options(attn, c)
    return model


def with_window(model: TokenStack, window: int, size: int | None = None) -> TokenStack:
    """The same trained weights in a stack with another window (and map ``size``), no fine-tuning.

    v1: each bias table resized by bicubic interpolation (what the official loader does).
    v2: the CPB is reused as it is; its coordinates stay scaled for the training window
    (``pretrained_window``), so a seen offset keeps its coordinate and bias, a new one extrapolates.
    """
    c = model.config
    pretrained = (c.pretrained_window or c.window) if c.version == 2 else 0
    new = build_stack(replace(c, window=window, size=size or c.size, pretrained_window=pretrained))
    state = model.state_dict()
    if c.version == 1:
        for key in [k for k in state if k.endswith("relative_position_bias_table")]:
            state[key] = resize_relative_position_bias_table(state[key], c.window, window)
    new.load_state_dict(state)
    return new


def unshifted(model: nn.Module) -> nn.Module:
    """``model`` (a ``SwinTransformer``, v1 or v2) with every shifted block replaced by an unshifted one.

    Each new block is built with the old one's settings and ``shift_size=0`` and takes its weights and
    drop-path, so an untrained model keeps its initialisation and a trained one its weights (W-MSA only).
    Changes ``model`` in place and returns it.
    """
    for layer in model.layers:
        for i, block in enumerate(layer.blocks):
            if block.shift_size == 0:
                continue
            pretrained = getattr(block.attn, "pretrained_window_size", None)  # v2 only: (h, w)
            kw = {} if pretrained is None else {"pretrained_window_size": pretrained[0]}
            plain = type(block)(
                block.dim, block.input_resolution, block.num_heads, block.requested_window_size, 0,
                block.mlp_ratio, norm_placement=block.norm_placement, **kw,
            )  # fmt: skip
            plain.drop_path = block.drop_path
            plain.load_state_dict(block.state_dict())
            layer.blocks[i] = plain
    return model
