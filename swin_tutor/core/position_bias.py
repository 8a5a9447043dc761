"""Relative position bias (v1 table, v2 continuous MLP) and the index that gathers it.

Inside a window of N = wh * ww tokens, the bias of the pair (query i, key j) depends only on their
offset ``coords[i] - coords[j]`` (dy in [-(wh-1), wh-1], dx in [-(ww-1), ww-1]), so there are
(2wh-1)(2ww-1) distinct offsets. The index maps each pair to its offset's row in a table.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from swin_tutor.core.validation import positive_pair

__all__ = [
    "window_coords",
    "relative_coords",
    "relative_position_index",
    "gather_relative_position_bias",
    "resize_relative_position_bias_table",
    "embed_relative_position_bias_table",
    "linear_coords_table",
    "log_spaced_coords_table",
    "make_cpb_mlp",
    "continuous_position_bias",
    "SharedRelativePositionBias",
]


def window_coords(window_size: int | tuple[int, int]) -> torch.Tensor:
    """(2, N): the (row, col) of each token of a window, tokens in row-major order."""
    wh, ww = positive_pair(window_size, "window_size")
    rows, cols = torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing="ij")
    return torch.stack([rows.flatten(), cols.flatten()])


def relative_coords(window_size: int | tuple[int, int]) -> torch.Tensor:
    """(2, N, N): query minus key offset, ``coords[:, i] - coords[:, j]``, per axis."""
    coords = window_coords(window_size)
    return coords[:, :, None] - coords[:, None, :]


def relative_position_index(
    window_size: int | tuple[int, int], table_window: int | tuple[int, int] | None = None
) -> torch.Tensor:
    """(N, N) long: the table row of each (query, key) pair, values 0 .. (2wh-1)(2ww-1)-1.

    Shift both offsets to be non-negative, then read (dy, dx) as a two-digit number in base
    (2ww - 1): ``(dy + wh - 1) * (2ww - 1) + (dx + ww - 1)``.

    ``table_window``: index a table made for a larger window instead (a block whose window the
    clamp rule shrank reads the central part of its table: the offsets that exist in the smaller one).
    """
    wh, ww = positive_pair(window_size, "window_size")
    th, tw = (wh, ww) if table_window is None else positive_pair(table_window, "table_window")
    if th < wh or tw < ww:
        raise ValueError(f"table_window {(th, tw)} must be at least the window {(wh, ww)} on each axis")
    rel = relative_coords((wh, ww))
    return (rel[0] + th - 1) * (2 * tw - 1) + (rel[1] + tw - 1)


def gather_relative_position_bias(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Look up a ((2wh-1)(2ww-1), heads) table with an (N, N) index: (heads, N, N)."""
    n = index.shape[-1]
    return table[index.reshape(-1)].reshape(n, n, -1).permute(2, 0, 1).contiguous()


def resize_relative_position_bias_table(
    table: torch.Tensor, old_window: int | tuple[int, int], new_window: int | tuple[int, int]
) -> torch.Tensor:
    """Resize a v1 bias table to another window by bicubic interpolation, each head on its own.

    The table is a (2wh-1, 2ww-1) image per head; this is what the official loader does when a
    checkpoint meets a model with a different window.
    """
    oh, ow = positive_pair(old_window, "old_window")
    nh, nw = positive_pair(new_window, "new_window")
    heads = table.shape[1]
    if table.shape[0] != (2 * oh - 1) * (2 * ow - 1):
        raise ValueError(f"a table for window {oh}x{ow} has {(2 * oh - 1) * (2 * ow - 1)} rows, got {table.shape[0]}")
    if (oh, ow) == (nh, nw):
        return table.clone()
    image = table.T.reshape(1, heads, 2 * oh - 1, 2 * ow - 1)
    resized = F.interpolate(image.float(), size=(2 * nh - 1, 2 * nw - 1), mode="bicubic", align_corners=False)
    return resized.reshape(heads, -1).T.contiguous().to(table.dtype)


def embed_relative_position_bias_table(
    table: torch.Tensor, small_window: int | tuple[int, int], window: int | tuple[int, int]
) -> torch.Tensor:
    """Place a table made for ``small_window`` in the centre of a (zero) table for ``window``.

    A block whose window the clamp rule shrank reads only the central offsets of its table, so a
    checkpoint made with the small table (official code, Hugging Face) loads without loss this way;
    resizing it by interpolation would change the offsets it does read.
    """
    sh, sw = positive_pair(small_window, "small_window")
    wh, ww = positive_pair(window, "window")
    if sh > wh or sw > ww:
        raise ValueError(f"small_window {(sh, sw)} must not exceed window {(wh, ww)}")
    if table.dim() != 2 or table.shape[0] != (2 * sh - 1) * (2 * sw - 1):
        raise ValueError(
            f"a table for window {sh}x{sw} has shape ({(2 * sh - 1) * (2 * sw - 1)}, heads), got {tuple(table.shape)}"
        )
    heads = table.shape[1]
    out = table.new_zeros(2 * wh - 1, 2 * ww - 1, heads)
    dy, dx = wh - sh, ww - sw
    out[dy : dy + 2 * sh - 1, dx : dx + 2 * sw - 1] = table.view(2 * sh - 1, 2 * sw - 1, heads)
    return out.view(-1, heads)


def linear_coords_table(
    window_size: int | tuple[int, int], pretrained_window_size: int | tuple[int, int] = 0
) -> torch.Tensor:
    """(2wh-1, 2ww-1, 2): relative offsets scaled to [-1, 1] at the pretrained window (before log-spacing).

    Each axis is divided by its own (size - 1): by the pretrained window when one is given (> 0),
    else by this window. A 1-wide axis has only the offset 0 and is left as it is.
    """
    wh, ww = positive_pair(window_size, "window_size")
    ph, pw = positive_pair(pretrained_window_size, "pretrained_window_size", minimum=0)
    dy = torch.arange(-(wh - 1), wh, dtype=torch.float32)
    dx = torch.arange(-(ww - 1), ww, dtype=torch.float32)
    table = torch.stack(torch.meshgrid(dy, dx, indexing="ij"), dim=-1)  # (2wh-1, 2ww-1, 2)
    norm_h = ph - 1 if ph > 0 else wh - 1
    norm_w = pw - 1 if pw > 0 else ww - 1
    if norm_h > 0:
        table[..., 0] /= norm_h
    if norm_w > 0:
        table[..., 1] /= norm_w
    return table


def log_spaced_coords_table(
    window_size: int | tuple[int, int], pretrained_window_size: int | tuple[int, int] = 0
) -> torch.Tensor:
    """(2wh-1, 2ww-1, 2): Swin V2's log-spaced coordinates, ``sign(x) * log2(1 + |x|) / log2(8)``
    of the linear coordinates times 8. At the pretrained window they span +-log2(9)/3 = +-1.0566.
    """
    table = linear_coords_table(window_size, pretrained_window_size) * 8
    return torch.sign(table) * torch.log2(table.abs() + 1.0) / math.log2(8)


def make_cpb_mlp(num_heads: int, hidden: int = 512) -> nn.Sequential:
    """The continuous position bias MLP: Linear(2, 512) -> ReLU -> Linear(512, heads, no bias)."""
    return nn.Sequential(
        nn.Linear(2, hidden, bias=True), nn.ReLU(inplace=True), nn.Linear(hidden, num_heads, bias=False)
    )


def continuous_position_bias(mlp: nn.Module, coords_table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Swin V2's bias: run the MLP on every offset, gather with the index, squash to (0, 16): (heads, N, N)."""
    table = mlp(coords_table.reshape(-1, 2))  # ((2wh-1)(2ww-1), heads)
    return 16 * torch.sigmoid(gather_relative_position_bias(table, index))


class SharedRelativePositionBias(nn.Module):
    """Tutorial variant (the "easy" implementation), kept to compare against: NOT the official design.

    One (2w-1, 2w-1) table shared by all heads, initialised N(0, 1), indexed by key minus query.
    It equals the official lookup with both axes flipped, but every head gets the same bias, so it
    cannot load official weights.
    """

    def __init__(self, window_size: int) -> None:
        super().__init__()
        self.window_size = window_size
        self.pos_embedding = nn.Parameter(torch.randn(2 * window_size - 1, 2 * window_size - 1))
        rel = -relative_coords(window_size) + window_size - 1  # key - query, shifted to >= 0
        self.register_buffer("relative_indices", rel, persistent=False)

    def forward(self) -> torch.Tensor:
        """(N, N): the same bias for every head."""
        return self.pos_embedding[self.relative_indices[0], self.relative_indices[1]]
